import type { ErrorCode } from './error-codes';

/** An error answer: `{"error": {"code", "message", "details"?}}`, the one shape clients parse. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'HttpProblem';
  }
}

export const notFound = (what: 'job' | 'execution', id: string) =>
  new HttpProblem(404, `${what}_not_found`, `No ${what} with id "${id}".`);

export const clusterNotFound = (name: string) =>
  new HttpProblem(404, 'cluster_not_found', `No cluster named "${name}".`);
