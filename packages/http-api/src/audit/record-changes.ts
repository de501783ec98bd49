import { redactSecrets, redactWebhookUrl, type AuditEntry, type AuditLog } from '@flink-orchestrator/domain';
import { auditScope, type AuditScope } from '@flink-orchestrator/observability';
import type { Context, Next } from 'koa';
import { requestState } from '../request-state';

type Params = Record<string, string | undefined>;

interface AuditedRoute {
  action: string;
  targetType: string;
  /** The target's id; absent: the id of the row the change created. */
  target?: (params: Params, body: Record<string, unknown>) => string | undefined;
  /** Where the job is: the `:id` of the path (default), the row created, the body's `jobId`, or none. */
  job?: 'created' | 'body' | 'none';
}

const param = (name: string) => (params: Params) => params[name];

/** Every change the API makes, as the audit trail records it; keyed by method and route. */
export const AUDITED_ROUTES: Record<string, AuditedRoute> = {
  'POST /api/v1/jobs': { action: 'job.create', targetType: 'job', job: 'created' },
  'PUT /api/v1/jobs/:id': { action: 'job.update', targetType: 'job', target: param('id') },
  'DELETE /api/v1/jobs/:id': { action: 'job.delete', targetType: 'job', target: param('id') },
  'POST /api/v1/jobs/:id/start': { action: 'job.start', targetType: 'execution' },
  'POST /api/v1/jobs/:id/stop': { action: 'job.stop', targetType: 'job', target: param('id') },
  'POST /api/v1/jobs/:id/upgrade': { action: 'job.upgrade', targetType: 'job', target: param('id') },
  'POST /api/v1/jobs/:id/schedule': { action: 'schedule.set', targetType: 'job', target: param('id') },
  'DELETE /api/v1/jobs/:id/schedule': { action: 'schedule.remove', targetType: 'job', target: param('id') },
  'POST /api/v1/jobs/:id/schedules': { action: 'schedule.create', targetType: 'schedule' },
  'DELETE /api/v1/jobs/:id/schedules/:scheduleId': {
    action: 'schedule.delete',
    targetType: 'schedule',
    target: param('scheduleId'),
  },
  'POST /api/v1/jobs/:id/savepoints': { action: 'savepoint.take', targetType: 'savepoint' },
  'DELETE /api/v1/jobs/:id/savepoints/:savepointId': {
    action: 'savepoint.dispose',
    targetType: 'savepoint',
    target: param('savepointId'),
  },
  'POST /api/v1/clusters': {
    action: 'cluster.create',
    targetType: 'cluster',
    target: (_p, body) => (typeof body.name === 'string' ? body.name : undefined),
    job: 'none',
  },
  'PUT /api/v1/clusters/:name': { action: 'cluster.update', targetType: 'cluster', target: param('name'), job: 'none' },
  'DELETE /api/v1/clusters/:name': {
    action: 'cluster.delete',
    targetType: 'cluster',
    target: param('name'),
    job: 'none',
  },
  'POST /api/v1/clusters/:name/jobs/:flinkJobId/cancel': {
    action: 'flink-job.cancel',
    targetType: 'flink-job',
    target: param('flinkJobId'),
    job: 'none',
  },
  'POST /api/v1/webhooks': { action: 'webhook.create', targetType: 'webhook', job: 'body' },
  'PUT /api/v1/webhooks/:webhookId': {
    action: 'webhook.update',
    targetType: 'webhook',
    target: param('webhookId'),
    job: 'body',
  },
  'DELETE /api/v1/webhooks/:webhookId': {
    action: 'webhook.delete',
    targetType: 'webhook',
    target: param('webhookId'),
    job: 'none',
  },
};

/** A webhook URL may hold its credential (Slack's do): the trail keeps its host. */
function withoutWebhookCredential(route: AuditedRoute, body: Record<string, unknown>): Record<string, unknown> {
  if (route.targetType !== 'webhook' || typeof body.url !== 'string') return body;
  return { ...body, url: redactWebhookUrl(body.url) };
}

/** Requests that change nothing, though not GETs. */
export const UNAUDITED_ROUTES = new Set(['POST /api/v1/jobs/:id/validate']);

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** One request's audit: described from its route once routing has matched it. */
class RequestAudit implements AuditScope {
  written = false;

  constructor(private readonly ctx: Context) {}

  describe(createdId?: string): AuditEntry | null {
    const ctx = this.ctx as Context & { _matchedRoute?: string; params?: Params };
    const route = AUDITED_ROUTES[`${ctx.method} ${ctx._matchedRoute ?? ''}`];
    if (!route) return null;
    const params = ctx.params ?? {};
    const raw: unknown = ctx.request.body;
    const body = raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
    const bodyJob = typeof body.jobId === 'string' ? body.jobId : null;
    const job = route.job ?? 'path';
    const state = requestState(ctx);
    return {
      actor: state.caller ?? 'anonymous',
      action: route.action,
      targetType: route.targetType,
      targetId: route.target?.(params, body) ?? createdId ?? null,
      jobId:
        job === 'path'
          ? (params.id ?? null)
          : job === 'created'
            ? (createdId ?? null)
            : job === 'body'
              ? bodyJob
              : null,
      changes: Object.keys(body).length > 0 ? redactSecrets(withoutWebhookCredential(route, body)) : null,
      requestId: state.requestId,
    };
  }
}

/**
 * Carries each changing /api request's audit scope down to the storage adapter, which writes
 * the entry in the transaction of the change. A change that wrote nothing to the database
 * (a cancel sent to Flink) is recorded on its own once it succeeded; the change happened,
 * so a failure to record it is logged (with the entry), not answered as the request's.
 */
export function auditChanges(log: AuditLog | undefined) {
  return async (ctx: Context, next: Next): Promise<void> => {
    if (!log || READ_METHODS.has(ctx.method) || !ctx.path.startsWith('/api/')) {
      await next();
      return;
    }
    const scope = new RequestAudit(ctx);
    await auditScope.run(scope, next);
    if (scope.written || ctx.status >= 400) return;
    const entry = scope.describe();
    if (!entry) return;
    try {
      await log.record(entry);
    } catch (error) {
      requestState(ctx).log.error({ err: error, audit: entry }, 'audit entry of a change that happened not recorded');
    }
  };
}
