/** Savepoint operations: where they go (Flink's naming) and how their status reads. */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { stackText, UNKNOWN_FAILURE } from './java-errors';

/** `<dir>/savepoint-<first 6 hex of the JobID>-<12 hex>`, as Flink names savepoint directories. */
export function savepointLocation(directory: string, jid: string): string {
  const base = directory.replace(/\/+$/, '');
  const withScheme = base.startsWith('/') ? `file:${base}` : base;
  return `${withScheme}/savepoint-${jid.slice(0, 6)}-${randomBytes(6).toString('hex')}`;
}

/** e2e-style tests look for the savepoint on disk, so a local one is really created. */
export function createLocalDirectory(location: string): void {
  if (!location.startsWith('file:')) return;
  try {
    mkdirSync(fileURLToPath(location.startsWith('file://') ? location : location.replace(/^file:/, 'file://')), {
      recursive: true,
    });
  } catch {
    // not a local path we can create; the location is still reported
  }
}

/**
 * Disposes of a local savepoint as Flink does (its directory removed); null when done, else
 * the failure Flink reports for a path that holds no savepoint. Other schemes: done.
 */
export function removeLocalSavepoint(location: string): string | null {
  if (!location.startsWith('file:') && !location.startsWith('/')) return null;
  const path = location.startsWith('/')
    ? location
    : fileURLToPath(location.startsWith('file://') ? location : location.replace(/^file:/, 'file://'));
  if (!existsSync(path)) {
    return `java.io.FileNotFoundException: Cannot find checkpoint or savepoint file/directory '${location}' on file system 'file'.`;
  }
  rmSync(path, { recursive: true, force: true });
  return null;
}

/** One savepoint (or stop-with-savepoint) operation, keyed by (JobID, triggerId). */
export interface SavepointOperation {
  status: 'IN_PROGRESS' | 'COMPLETED';
  location?: string;
  failure?: string;
}

/** The AsynchronousOperationResult of GET /jobs/:jobid/savepoints/:triggerid. */
export function operationResult(operation: SavepointOperation): Record<string, unknown> {
  if (operation.status === 'IN_PROGRESS') return { status: { id: 'IN_PROGRESS' } };
  if (operation.location) return { status: { id: 'COMPLETED' }, operation: { location: operation.location } };
  const failure = operation.failure ?? UNKNOWN_FAILURE;
  // Field names from SerializedThrowableSerializer (the OpenAPI file lists only serialized-throwable).
  const cause = {
    class: failure.split(':')[0],
    'stack-trace': stackText(failure),
    'serialized-throwable': Buffer.from(failure).toString('base64'),
  };
  return { status: { id: 'COMPLETED' }, operation: { 'failure-cause': cause } };
}
