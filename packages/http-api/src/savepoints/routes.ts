import type Router from '@koa/router';
import type { Context } from 'koa';
import type { ApiDependencies } from '../deps';
import { pageOf, readPage } from '../pagination';
import { savepointView } from './views';

const location = (ctx: Context, jobId: string, savepointId: string) =>
  ctx.set('Location', `/api/v1/jobs/${jobId}/savepoints/${savepointId}`);

/** Savepoints as records: take one of the running execution, list them, dispose of one through Flink. */
export function savepointRoutes(router: Router, deps: ApiDependencies): void {
  // 202: the savepoint is IN_PROGRESS; its record says when Flink completed it, and where it went.
  router.post('/api/v1/jobs/:id/savepoints', async (ctx) => {
    const jobId = ctx.params.id as string;
    const savepoint = await deps.savepoints.take(jobId);
    ctx.status = 202;
    location(ctx, jobId, savepoint.id);
    ctx.body = savepointView(savepoint);
  });

  router.get('/api/v1/jobs/:id/savepoints', async (ctx) => {
    const { page, limit } = readPage(ctx);
    const rows = await deps.savepoints.list(ctx.params.id as string, page);
    ctx.body = pageOf(ctx, rows, limit).map(savepointView);
  });

  router.get('/api/v1/jobs/:id/savepoints/:savepointId', async (ctx) => {
    ctx.body = savepointView(await deps.savepoints.get(ctx.params.id as string, ctx.params.savepointId as string));
  });

  // 202: Flink disposes of the files; `disposedAt` is set once it confirmed.
  router.delete('/api/v1/jobs/:id/savepoints/:savepointId', async (ctx) => {
    const jobId = ctx.params.id as string;
    const savepoint = await deps.savepoints.dispose(jobId, ctx.params.savepointId as string);
    ctx.status = 202;
    location(ctx, jobId, savepoint.id);
    ctx.body = savepointView(savepoint);
  });
}
