import type Router from '@koa/router';
import {
  EXECUTION_STATUSES,
  type Execution,
  type ExecutionFilter,
  type ExecutionStatus,
  type StartOptions,
  type StopOptions,
} from '@flink-orchestrator/domain';
import Joi from 'joi';
import type { Context } from 'koa';
import type { ApiDependencies } from '../deps';
import { pageOf, readPage } from '../pagination';
import { HttpProblem } from '../problem';
import { validate } from '../shared/validation';
import { executionHistorySchema, startSchema, stopSchema } from './validation';
import { executionView } from './views';

const statusFilter = Joi.object({ status: Joi.string().valid(...EXECUTION_STATUSES) }).unknown(true);

/** 202 with the execution that will carry out the request, and where to follow it. */
function accepted(ctx: Context, execution: Execution): void {
  ctx.status = 202;
  ctx.set('Location', `/api/v1/executions/${execution.id}`);
  ctx.body = executionView(execution);
}

export function executionRoutes(router: Router, deps: ApiDependencies): void {
  /** Views that name the savepoints each execution produced: one query for the whole page. */
  const views = async (rows: Execution[]) => {
    const produced = await deps.savepoints.producedBy(rows.map((e) => e.id));
    return rows.map((e) => executionView(e, produced.get(e.id) ?? []));
  };
  router.post('/api/v1/jobs/:id/start', async (ctx) => {
    const options = validate<StartOptions>(startSchema, ctx.request.body);
    accepted(ctx, await deps.starts.run(ctx.params.id as string, options));
  });

  router.post('/api/v1/jobs/:id/stop', async (ctx) => {
    const options = validate<StopOptions>(stopSchema, ctx.request.body);
    accepted(ctx, await deps.stops.forJob(ctx.params.id as string, options));
  });

  router.get('/api/v1/jobs/:id/executions', async (ctx) => {
    const { status } = validate<{ status?: ExecutionStatus }>(
      statusFilter,
      { status: ctx.query.status },
      { convert: true },
    );
    const { page, limit } = readPage(ctx);
    const rows = await deps.history.listForJob(ctx.params.id as string, page, status);
    ctx.body = await views(pageOf(ctx, rows, limit));
  });

  // The history across jobs: "every failed run since yesterday" in one call.
  router.get('/api/v1/executions', async (ctx) => {
    const filter = validate<ExecutionFilter>(executionHistorySchema, { ...ctx.query }, { convert: true });
    if (filter.since && filter.until && filter.until <= filter.since) {
      const message = '"until" must be later than "since"';
      throw new HttpProblem(400, 'validation_failed', message, [{ field: 'until', message }]);
    }
    const { page, limit } = readPage(ctx);
    const { status, trigger, jobId, since, until } = filter;
    const rows = await deps.history.list({ status, trigger, jobId, since, until }, page);
    ctx.body = await views(pageOf(ctx, rows, limit));
  });

  router.get('/api/v1/executions/:id', async (ctx) => {
    ctx.body = (await views([await deps.history.get(ctx.params.id as string)]))[0];
  });
}
