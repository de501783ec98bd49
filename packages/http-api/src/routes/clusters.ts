import type Router from '@koa/router';
import type { ClusterAuth, ClusterChanges } from '@flink-orchestrator/domain';
import type { ApiDependencies } from '../deps';
import { pageOf, readPage } from '../pagination';
import { clusterNotFound } from '../problem';
import { CLUSTER_NAME, createClusterSchema, updateClusterSchema, validate } from '../validation';
import { clusterView } from '../views';

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

  router.get('/api/v1/clusters/:name', async (ctx) => {
    ctx.body = clusterView(await deps.clusters.get(ctx.params.name as string));
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
}
