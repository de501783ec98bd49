import { AsyncLocalStorage } from 'node:async_hooks';
import type { AuditEntry } from '@flink-orchestrator/domain';

/**
 * A request that changes something, as the storage adapter sees it: the adapter asks for the
 * audit entry when it writes the change and inserts it in the same transaction, once.
 */
export interface AuditScope {
  /** The entry of this request; `createdId` is the id of the row the write created. Null: not audited. */
  describe(createdId?: string): AuditEntry | null;
  /** Set by the adapter once the entry is written with a change. */
  written: boolean;
}

/** Carried by the API's middleware through the request's async calls, like a trace context. */
export const auditScope = new AsyncLocalStorage<AuditScope>();
