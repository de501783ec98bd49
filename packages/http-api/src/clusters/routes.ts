import type Router from '@koa/router';
import type { ClusterAuth, ClusterChanges } from '@flink-orchestrator/domain';
import type { ApiDependencies } from '../deps';
import { pageOf, readPage } from '../pagination';
import { clusterNotFound, HttpProblem } from '../problem';
import { requestState } from '../request-state';
import { validate } from '../shared/validation';
import { CLUSTER_NAME, createClusterSchema, FLINK_JOB_ID, updateClusterSchema } from './validation';
import { clusterDetailView, clusterView } from './views';

interface ClusterBody {
  name?: string;
  url?: string;
  auth?: ClusterAuth | null;
  savepointDir?: string | null;
}

export function clusterRoutes(router: Router, deps: ApiDependencies): void {
  // A name that is not a slug names nothing: 404 before touching the database.
  router.param('name', async (name, ctx, next) => {
    if (!CLUSTER_NAME.test(name)) throw clusterNotFound(name);
    return next();
  });

  router.post('/api/v1/clusters', async (ctx) => {
    const body = validate<ClusterBody>(createClusterSchema, ctx.request.body);
    const created = await deps.clusters.create({
      name: body.name as string,
      url: body.url as string,
      auth: body.auth ?? null,
      savepointDir: body.savepointDir ?? null,
    });
    ctx.status = 201;
    ctx.set('Location', `/api/v1/clusters/${created.name}`);
    ctx.body = clusterView(created);
  });

  router.get('/api/v1/clusters', async (ctx) => {
    const { page, limit } = readPage(ctx);
    ctx.body = pageOf(ctx, await deps.clusters.list(page), limit).map(clusterView);
  });

  // With what the observer last saw of it, from PostgreSQL: no call to Flink per request.
  router.get('/api/v1/clusters/:name', async (ctx) => {
    const name = ctx.params.name as string;
    const [cluster, observation] = await Promise.all([deps.clusters.get(name), deps.observations.get(name)]);
    ctx.body = clusterDetailView(cluster, observation);
  });

  router.put('/api/v1/clusters/:name', async (ctx) => {
    const body = validate<ClusterBody>(updateClusterSchema, ctx.request.body);
    const changes: ClusterChanges = {};
    if (body.url !== undefined) changes.url = body.url;
    if (body.auth !== undefined) changes.auth = body.auth;
    if (body.savepointDir !== undefined) changes.savepointDir = body.savepointDir;
    ctx.body = clusterView(await deps.clusters.update(ctx.params.name as string, changes));
  });

  router.delete('/api/v1/clusters/:name', async (ctx) => {
    await deps.clusters.delete(ctx.params.name as string);
    ctx.status = 204;
  });

  // A Flink job no active execution owns: one started by hand, or left running by an execution recorded as ended.
  router.post('/api/v1/clusters/:name/jobs/:flinkJobId/cancel', async (ctx) => {
    const name = ctx.params.name as string;
    const flinkJobId = ctx.params.flinkJobId as string;
    if (!FLINK_JOB_ID.test(flinkJobId)) {
      const message = '"flinkJobId" must be a Flink JobID: 32 hexadecimal digits';
      throw new HttpProblem(400, 'validation_failed', message, [{ field: 'flinkJobId', message }]);
    }
    const cancelled = await deps.flinkJobs.run(name, flinkJobId);
    requestState(ctx).log.info(cancelled, 'unmanaged Flink job cancelled');
    ctx.status = 202;
    ctx.body = { ...cancelled, cancelled: true };
  });
}
