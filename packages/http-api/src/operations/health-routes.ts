import type Router from '@koa/router';
import { withTimeout } from '@flink-orchestrator/observability';
import type { ApiDependencies } from '../deps';
import { requestState } from '../request-state';

const CHECK_TIMEOUT_MS = 2000;

export function healthRoutes(router: Router, deps: ApiDependencies): void {
  // Liveness: the process answers; no dependency is consulted.
  router.get('/health/live', (ctx) => {
    ctx.body = { status: 'ok' };
  });

  router.get('/health', async (ctx) => {
    const results = await Promise.all(
      deps.health.map(async ({ name, check, informational }) => {
        try {
          await withTimeout(check(), CHECK_TIMEOUT_MS, 'timed out');
          return { name, state: 'ok', informational };
        } catch (error) {
          if (!informational) requestState(ctx).log.warn({ err: error, check: name }, 'health check failed');
          return { name, state: informational ? 'unreachable' : 'unavailable', informational };
        }
      }),
    );
    const healthy = results.every((r) => r.informational || r.state === 'ok');
    ctx.status = healthy ? 200 : 503;
    ctx.body = {
      status: healthy ? 'ok' : 'unavailable',
      checks: Object.fromEntries(results.map((r) => [r.name, r.state])),
    };
  });
}
