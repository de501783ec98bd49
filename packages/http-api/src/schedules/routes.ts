import type Router from '@koa/router';
import type { ActionOptions, ScheduleAction, ScheduleInput } from '@flink-orchestrator/domain';
import type { ApiDependencies } from '../deps';
import { ifMatched, ifMatchVersion } from '../if-match';
import { jobETag, jobView } from '../jobs/views';
import { validate } from '../shared/validation';
import { actionScheduleSchema, scheduleSchema } from './validation';
import { actionScheduleView, scheduleEntryView } from './views';

interface ActionScheduleBody extends Omit<ScheduleInput, 'overlap' | 'replace'> {
  action: ScheduleAction;
  savepoint?: boolean;
  drain?: boolean;
  restoreFrom?: 'latest-savepoint' | null;
}

function optionsOf(body: ActionScheduleBody): ActionOptions {
  const options: ActionOptions = {};
  if (body.savepoint !== undefined) options.savepoint = body.savepoint;
  if (body.drain !== undefined) options.drain = body.drain;
  if (body.restoreFrom !== undefined) options.restoreFrom = body.restoreFrom;
  return options;
}

export function scheduleRoutes(router: Router, deps: ApiDependencies): void {
  router.post('/api/v1/jobs/:id/schedule', async (ctx) => {
    const schedule = validate<ScheduleInput>(scheduleSchema, ctx.request.body, { convert: true });
    const version = ifMatchVersion(ctx);
    const job = await ifMatched(version, () => deps.schedules.set(ctx.params.id as string, schedule, version));
    ctx.set('ETag', jobETag(job));
    ctx.body = jobView(job, deps.schedules.nextRuns(job, deps.clock.now()));
  });

  router.delete('/api/v1/jobs/:id/schedule', async (ctx) => {
    const version = ifMatchVersion(ctx);
    await ifMatched(version, () => deps.schedules.remove(ctx.params.id as string, version));
    ctx.status = 204;
  });

  // A job's schedules besides its start schedule: each starts, stops or takes a savepoint.
  router.post('/api/v1/jobs/:id/schedules', async (ctx) => {
    const body = validate<ActionScheduleBody>(actionScheduleSchema, ctx.request.body, { convert: true });
    const created = await deps.actionSchedules.create({
      jobId: ctx.params.id as string,
      action: body.action,
      cron: body.cron,
      timezone: body.timezone,
      options: optionsOf(body),
      startAt: body.startAt,
      endAt: body.endAt,
    });
    ctx.status = 201;
    ctx.set('Location', `/api/v1/jobs/${created.schedule.jobId}/schedules/${created.schedule.id}`);
    ctx.body = actionScheduleView(created);
  });

  router.get('/api/v1/jobs/:id/schedules', async (ctx) => {
    ctx.body = (await deps.actionSchedules.list(ctx.params.id as string)).map(actionScheduleView);
  });

  router.get('/api/v1/jobs/:id/schedules/:scheduleId', async (ctx) => {
    ctx.body = actionScheduleView(
      await deps.actionSchedules.get(ctx.params.id as string, ctx.params.scheduleId as string),
    );
  });

  router.delete('/api/v1/jobs/:id/schedules/:scheduleId', async (ctx) => {
    await deps.actionSchedules.delete(ctx.params.id as string, ctx.params.scheduleId as string);
    ctx.status = 204;
  });

  router.get('/api/v1/schedules', async (ctx) => {
    const now = deps.clock.now();
    const jobs = await deps.schedules.listScheduled();
    ctx.body = jobs.map((job) => scheduleEntryView(job, deps.schedules.nextRuns(job, now)));
  });
}
