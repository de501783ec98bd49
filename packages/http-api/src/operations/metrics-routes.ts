import type Router from '@koa/router';
import type { ApiDependencies } from '../deps';
import { requestState } from '../request-state';

export function metricsRoutes(router: Router, deps: ApiDependencies): void {
  const source = deps.metrics;
  if (!source) return;
  router.get('/metrics', async (ctx) => {
    try {
      await source.refresh();
    } catch (error) {
      // Serve what we have: a scrape must not fail because one gauge's source is down.
      requestState(ctx).log.warn({ err: error }, 'metrics refresh failed');
    }
    ctx.type = source.metrics.registry.contentType;
    ctx.body = await source.metrics.registry.metrics();
  });
}
