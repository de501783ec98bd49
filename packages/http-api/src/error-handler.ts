import { randomUUID } from 'node:crypto';
import { DomainError } from '@flink-orchestrator/domain';
import type { Logger } from '@flink-orchestrator/observability';
import type { Context, Next } from 'koa';
import { ERROR_STATUS, isErrorCode, type ErrorCode } from './error-codes';
import { HttpProblem } from './problem';
import { requestState } from './request-state';

/** The domain's error codes the API answers as they are; any other domain error is a 500. */
const DOMAIN_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'job_not_found',
  'execution_not_found',
  'job_name_taken',
  'job_modified',
  'cluster_not_found',
  'cluster_name_taken',
  'cluster_in_use',
  'job_disabled',
  'execution_active',
  'in_stop_window',
  'no_active_execution',
  'no_savepoint',
  'concurrent_modification',
  'savepoint_not_found',
  'savepoint_in_use',
  'savepoint_not_usable',
  'no_running_execution',
  'upgrade_in_progress',
  'upgrade_not_found',
  'schedule_not_found',
  'webhook_not_found',
  'flink_job_managed',
  'flink_job_not_found',
  'flink_job_ended',
  'validation_failed',
  'validation_failed_on_flink',
  'dependency_unavailable',
]);

const FIELD_CODES = new Set(['invalid_schedule', 'unknown_cluster', 'unknown_job', 'webhook_url_not_allowed']);

/** An incoming X-Request-Id that is echoed; any other gets a fresh UUID. */
export const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Gives every request an id (echoed in X-Request-Id and every log line) and turns every
 * error into the JSON problem shape. Unexpected errors are logged in full and answered
 * as 500 internal_error without any detail.
 */
export function requestContext(log: Logger) {
  return async (ctx: Context, next: Next): Promise<void> => {
    const incoming = ctx.get('X-Request-Id');
    const requestId = SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    const state = requestState(ctx);
    state.requestId = requestId;
    // Built on first use: most requests log nothing, so most need no pino child of their own.
    let requestLog: Logger | undefined;
    Object.defineProperty(state, 'log', {
      get: () => (requestLog ??= log.child({ requestId, ...(state.caller ? { caller: state.caller } : {}) })),
      configurable: true,
    });
    ctx.set('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new HttpProblem(404, 'route_not_found', `No route for ${ctx.method} ${ctx.path}.`);
      }
    } catch (error) {
      const problem = toProblem(error);
      if (problem.status >= 500) {
        state.log.error({ err: error, method: ctx.method, path: ctx.path }, 'request failed');
      }
      ctx.status = problem.status;
      ctx.body = {
        error: {
          code: problem.code,
          message: problem.message,
          ...(problem.details !== undefined ? { details: problem.details } : {}),
          ...(problem.status >= 500 ? { requestId } : {}),
        },
      };
      if (problem.status === 503) ctx.set('Retry-After', '5');
    } finally {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      state.log.debug({ method: ctx.method, path: ctx.path, status: ctx.status, ms }, 'request');
    }
  };
}

function toProblem(error: unknown): HttpProblem {
  if (error instanceof HttpProblem) return error;
  if (error instanceof DomainError) {
    // A schedule the domain refuses, a body naming no cluster or no job, a webhook URL the
    // outbound guard refuses: validation failures like any other bad field.
    const asField = FIELD_CODES.has(error.code);
    const code = asField ? 'validation_failed' : error.code;
    if (!isErrorCode(code) || !DOMAIN_CODES.has(code)) return internal();
    const details = asField ? [{ field: error.details?.field, message: error.message }] : error.details;
    return new HttpProblem(ERROR_STATUS[code], code, error.message, details);
  }
  // Errors raised by Koa's body parser carry an HTTP status of their own.
  const status = (error as { status?: unknown }).status;
  const type = (error as { type?: unknown }).type;
  if (status === 413 || type === 'entity.too.large') {
    return new HttpProblem(413, 'payload_too_large', 'The request body is too large.');
  }
  if (status === 415) return new HttpProblem(415, 'unsupported_media_type', 'Send the body as application/json.');
  if (status === 400 && (type === 'entity.parse.failed' || error instanceof SyntaxError)) {
    return new HttpProblem(400, 'malformed_json', 'The request body is not valid JSON.');
  }
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new HttpProblem(status, 'bad_request', 'The request could not be read.');
  }
  return internal();
}

const internal = () =>
  new HttpProblem(500, 'internal_error', 'Something went wrong on our side; the request id identifies it in our logs.');
