import type { Metrics } from '@flink-orchestrator/observability';
import type { Context, Next } from 'koa';

/** Counts requests by matched route pattern (never the raw path: ids would explode the label set). */
export function requestMetrics(metrics: Metrics) {
  return async (ctx: Context, next: Next): Promise<void> => {
    const stop = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const route = (ctx as Context & { _matchedRoute?: string })._matchedRoute ?? 'unmatched';
      const seconds = Number(process.hrtime.bigint() - stop) / 1e9;
      metrics.httpRequests.inc({ method: ctx.method, route: String(route), status: String(ctx.status) });
      metrics.httpDuration.observe({ method: ctx.method, route: String(route) }, seconds);
    }
  };
}
