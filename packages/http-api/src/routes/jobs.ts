import type Router from '@koa/router';
import type { Job, JobChanges, NewJob, ProgramConfig, ScheduleInput } from '@flink-orchestrator/domain';
import type { ApiDependencies } from '../deps';
import { pageOf, readPage } from '../pagination';
import { createJobSchema, updateJobSchema, validate } from '../validation';
import { jobView } from '../views';

interface JobBody {
  name?: string;
  jarURL?: string;
  entryClass?: string | null;
  config?: ProgramConfig;
  parallelism?: number | null;
  enabled?: boolean;
  scheduleCron?: string;
}

function changesFrom(body: JobBody): JobChanges {
  const changes: JobChanges = {};
  if (body.name !== undefined) changes.name = body.name;
  if (body.jarURL !== undefined) changes.jarUrl = body.jarURL;
  if (body.entryClass !== undefined) changes.entryClass = body.entryClass;
  if (body.config !== undefined) changes.config = body.config;
  if (body.parallelism !== undefined) changes.parallelism = body.parallelism;
  if (body.enabled !== undefined) changes.enabled = body.enabled;
  return changes;
}

/** `scheduleCron`, the original service's field: a schedule with default settings. */
function shorthandSchedule(body: JobBody, current: Job | null): ScheduleInput | undefined {
  if (body.scheduleCron === undefined) return undefined;
  const keep = current?.schedule;
  return {
    cron: body.scheduleCron,
    timezone: keep?.timezone ?? 'UTC',
    overlap: keep?.overlap ?? 'skip',
    replace: keep?.replace ?? null,
    startAt: keep?.startAt ?? null,
    endAt: keep?.endAt ?? null,
  };
}

export function jobRoutes(router: Router, deps: ApiDependencies): void {
  const view = (job: Job) => jobView(job, deps.schedules.nextRuns(job, deps.clock.now()));

  router.post('/api/v1/jobs', async (ctx) => {
    const body = validate<JobBody>(createJobSchema, ctx.request.body);
    const job: NewJob = {
      name: body.name as string,
      jarUrl: body.jarURL as string,
      entryClass: body.entryClass ?? null,
      config: body.config ?? {},
      parallelism: body.parallelism ?? null,
      enabled: body.enabled ?? true,
    };
    const created = await deps.catalog.create(job, shorthandSchedule(body, null));
    ctx.status = 201;
    ctx.set('Location', `/api/v1/jobs/${created.id}`);
    ctx.body = view(created);
  });

  router.get('/api/v1/jobs', async (ctx) => {
    const { page, limit } = readPage(ctx);
    ctx.body = pageOf(ctx, await deps.catalog.list(page), limit).map(view);
  });

  router.get('/api/v1/jobs/:id', async (ctx) => {
    ctx.body = view(await deps.catalog.get(ctx.params.id as string));
  });

  router.put('/api/v1/jobs/:id', async (ctx) => {
    const body = validate<JobBody>(updateJobSchema, ctx.request.body);
    const id = ctx.params.id as string;
    const schedule = body.scheduleCron === undefined ? undefined : shorthandSchedule(body, await deps.catalog.get(id));
    ctx.body = view(await deps.catalog.update(id, changesFrom(body), schedule));
  });

  router.delete('/api/v1/jobs/:id', async (ctx) => {
    await deps.catalog.delete(ctx.params.id as string);
    ctx.status = 204;
  });
}
