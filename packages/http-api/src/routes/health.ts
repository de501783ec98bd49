import type Router from '@koa/router';
import type { ApiDependencies } from '../deps';
import { requestState } from '../request-state';

const CHECK_TIMEOUT_MS = 2000;

function withTimeout(check: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), CHECK_TIMEOUT_MS);
  });
  return Promise.race([check, timeout]).finally(() => clearTimeout(timer));
}

export function healthRoutes(router: Router, deps: ApiDependencies): void {
  // Liveness: the process answers; no dependency is consulted.
  router.get('/health/live', (ctx) => {
    ctx.body = { status: 'ok' };
  });

  router.get('/health', async (ctx) => {
    const results = await Promise.all(
      deps.health.map(async ({ name, check, informational }) => {
        try {
          await withTimeout(check());
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
