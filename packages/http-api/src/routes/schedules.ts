import type Router from '@koa/router';
import type { ScheduleInput } from '@flink-orchestrator/domain';
import type { ApiDependencies } from '../deps';
import { scheduleSchema, validate } from '../validation';
import { jobView, scheduleEntryView } from '../views';

export function scheduleRoutes(router: Router, deps: ApiDependencies): void {
  router.post('/api/v1/jobs/:id/schedule', async (ctx) => {
    const schedule = validate<ScheduleInput>(scheduleSchema, ctx.request.body, { convert: true });
    const job = await deps.schedules.set(ctx.params.id as string, schedule);
    ctx.body = jobView(job, deps.schedules.nextRuns(job, deps.clock.now()));
  });

  router.delete('/api/v1/jobs/:id/schedule', async (ctx) => {
    await deps.schedules.remove(ctx.params.id as string);
    ctx.status = 204;
  });

  router.get('/api/v1/schedules', async (ctx) => {
    const now = deps.clock.now();
    const jobs = await deps.schedules.listScheduled();
    ctx.body = jobs.map((job) => scheduleEntryView(job, deps.schedules.nextRuns(job, now)));
  });
}
