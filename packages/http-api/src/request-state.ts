import type { Logger } from '@flink-orchestrator/observability';

/** What the API's middleware keeps on `ctx.state` for the rest of a request. */
export interface RequestState {
  /** Set by requestContext: the X-Request-Id echoed and logged. */
  requestId: string;
  /** Set by requestContext: the request's logger, with its id and, once known, the caller. */
  log: Logger;
  /** Set by the token guard: the name of the token the request came with. */
  caller?: string;
  /** Set by the token guard: what the token may do. */
  access?: 'read' | 'write';
}

/** `ctx.state` as the API's middleware fills it (Koa types it as `any`). */
export function requestState(ctx: { state: unknown }): RequestState {
  return ctx.state as RequestState;
}
