import { bodyParser } from '@koa/bodyparser';
import cors from '@koa/cors';
import Router from '@koa/router';
import Koa from 'koa';
import helmet from 'koa-helmet';
import type { ApiDependencies } from './deps';
import { requestContext } from './error-handler';
import { requireSecretFor, requireToken } from './auth';
import { requestMetrics } from './metrics';
import { auditChanges } from './audit/record-changes';
import { auditRoutes } from './audit/routes';
import { metricsRoutes } from './operations/metrics-routes';
import { docsRoutes } from './operations/docs-routes';
import { isUuid } from './ids';
import { HttpProblem, notFound } from './problem';
import { executionRoutes } from './executions/routes';
import { savepointRoutes } from './savepoints/routes';
import { upgradeRoutes } from './upgrades/routes';
import { healthRoutes } from './operations/health-routes';
import { jobRoutes } from './jobs/routes';
import { clusterRoutes } from './clusters/routes';
import { scheduleRoutes } from './schedules/routes';
import { webhookRoutes } from './events/webhook-routes';
import { eventRoutes } from './events/routes';

/** Bodies must be JSON; an empty body (a bare POST /start) is fine. */
async function requireJson(ctx: Koa.Context, next: Koa.Next): Promise<void> {
  const hasBody = Number(ctx.get('Content-Length') || 0) > 0 || ctx.get('Transfer-Encoding') !== '';
  if (['POST', 'PUT', 'PATCH'].includes(ctx.method) && hasBody && !ctx.is('application/json')) {
    throw new HttpProblem(415, 'unsupported_media_type', 'Send the request body as application/json.');
  }
  await next();
}

export function createApp(deps: ApiDependencies, extraMiddleware: Koa.Middleware[] = []): Koa {
  const app = new Koa({ proxy: true });
  app.silent = true; // errors are logged by requestContext, once, with the request id
  // Outermost, so it reads the status the error handler answered, not Koa's 404 default.
  if (deps.metrics) app.use(requestMetrics(deps.metrics.metrics));
  app.use(requestContext(deps.log));
  app.use(helmet());
  // CORS stays off unless origins are configured: browsers on other sites get no access.
  if (deps.corsOrigins?.length) {
    const allowed = new Set(deps.corsOrigins);
    app.use(
      cors({
        origin: (ctx) => (allowed.has(ctx.get('Origin')) ? ctx.get('Origin') : ''),
        exposeHeaders: ['Location', 'Link', 'X-Request-Id', 'ETag'],
      }),
    );
  }
  if (deps.auth.metricsToken) app.use(requireSecretFor('/metrics', deps.auth.metricsToken));
  if (deps.auth.tokens) app.use(requireToken(deps.auth.tokens));
  for (const middleware of extraMiddleware) app.use(middleware);
  app.use(requireJson);
  app.use(bodyParser({ enableTypes: ['json'], jsonLimit: deps.bodyLimit ?? '256kb', jsonStrict: true }));
  app.use(auditChanges(deps.audit));
  const router = apiRouter(deps);
  app.use(router.routes());
  app.use(methodNotAllowed(router));
  return app;
}

/**
 * A method the path has no route for: 405 with Allow, as a JSON error like every other. The
 * router answers it with a bare status (or 501 for a method no route has at all).
 */
function methodNotAllowed(router: Router): ReturnType<Router['allowedMethods']> {
  const allowed = router.allowedMethods({ throw: false });
  return async (ctx, next) => {
    await allowed(ctx, next);
    if ((ctx.status !== 405 && ctx.status !== 501) || ctx.body !== undefined) return;
    const allow = ctx.response.get('Allow');
    if (!allow) {
      ctx.remove('Allow');
      throw new HttpProblem(404, 'route_not_found', `No route for ${ctx.method} ${ctx.path}.`);
    }
    throw new HttpProblem(405, 'method_not_allowed', `${ctx.path} does not take ${ctx.method}; it takes ${allow}.`);
  };
}

/** The API's one router: a single match per request, whatever the number of routes. */
export function apiRouter(deps: ApiDependencies): Router {
  const router = new Router();
  // Any :id that is not a UUID names nothing: answer 404 before touching the database.
  router.param('id', async (id, ctx, next) => {
    if (!isUuid(id)) throw notFound(ctx.path.startsWith('/api/v1/executions') ? 'execution' : 'job', id);
    return next();
  });
  healthRoutes(router, deps);
  metricsRoutes(router, deps);
  docsRoutes(router);
  jobRoutes(router, deps);
  clusterRoutes(router, deps);
  executionRoutes(router, deps);
  savepointRoutes(router, deps);
  upgradeRoutes(router, deps);
  scheduleRoutes(router, deps);
  webhookRoutes(router, deps);
  eventRoutes(router, deps);
  auditRoutes(router, deps);
  return router;
}
