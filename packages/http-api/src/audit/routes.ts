import type Router from '@koa/router';
import type { AuditQuery } from '@flink-orchestrator/domain';
import type { ApiDependencies } from '../deps';
import { pageOf, readPage } from '../pagination';
import { HttpProblem } from '../problem';
import { requestState } from '../request-state';
import { validate } from '../shared/validation';
import { auditQuerySchema } from './validation';
import { auditView } from './views';

/** The audit trail, newest first. It says who changed what: a read-only token does not see it. */
export function auditRoutes(router: Router, deps: ApiDependencies): void {
  router.get('/api/v1/audit', async (ctx) => {
    const state = requestState(ctx);
    if (state.access === 'read')
      throw new HttpProblem(
        403,
        'forbidden',
        `Token "${state.caller}" is read-only; the audit trail needs a write token.`,
      );
    const query = validate<AuditQuery>(auditQuerySchema, { ...ctx.query }, { convert: true });
    const { page, limit } = readPage(ctx);
    if (!deps.audit) throw new HttpProblem(404, 'route_not_found', 'This API keeps no audit trail.');
    const { jobId, actor, since } = query;
    ctx.body = pageOf(ctx, await deps.audit.list({ jobId, actor, since }, page), limit).map(auditView);
  });
}
