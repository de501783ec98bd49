import { TransientFailure } from './errors';

/** One readable line for errorMessage: never empty, never a whole stack. */
export function failureText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const line = message.trim().split('\n')[0]?.trim();
  return line && line.length > 0 ? line.slice(0, 2000) : 'unknown error (no message)';
}

/** Log fields for a failure: an expected outage in one line, anything else with its stack. */
export function errorFields(error: unknown): { reason: string } | { err: unknown } {
  return error instanceof TransientFailure ? { reason: failureText(error) } : { err: error };
}
