import { JobModified } from '@flink-orchestrator/domain';
import type { Context } from 'koa';
import { HttpProblem } from './problem';
import { LIMITS } from './shared/validation';

const IF_MATCH = /^(?:W\/)?(?:"([1-9][0-9]{0,9})"|([1-9][0-9]{0,9}))$/;

/**
 * The job version a change is based on, from `If-Match: "3"` (the ETag as sent), `If-Match: 3`
 * or `W/"3"` (what a compressing proxy makes of the ETag). `*` and no header: any version.
 */
export function ifMatchVersion(ctx: Context): number | undefined {
  const header = ctx.get('If-Match').trim();
  if (header === '' || header === '*') return undefined;
  const match = IF_MATCH.exec(header);
  const version = match ? Number(match[1] ?? match[2]) : NaN;
  if (!(version <= LIMITS.version)) {
    const message = 'If-Match must be one job version as its ETag gives it, such as "3"';
    throw new HttpProblem(400, 'validation_failed', message, [{ field: 'If-Match', message }]);
  }
  return version;
}

/**
 * Runs a change based on the version If-Match named. The repositories compare the version in
 * the statement (or under the row lock) that writes, so a job changed since changes nothing;
 * that answers 412 precondition_failed (RFC 9110), the current version in `details`.
 */
export async function ifMatched<T>(fromHeader: number | undefined, change: () => Promise<T>): Promise<T> {
  try {
    return await change();
  } catch (error) {
    if (fromHeader !== undefined && error instanceof JobModified)
      throw new HttpProblem(412, 'precondition_failed', error.message, error.details);
    throw error;
  }
}
