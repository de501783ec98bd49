import type { AuditEntry, AuditRecord } from './audit';
import type { PageRequest } from '../jobs/job-repository';

export interface AuditQuery {
  jobId?: string;
  actor?: string;
  since?: Date;
}

/** The audit trail: written with each change (adapters do it in the change's transaction), read newest first. */
export interface AuditLog {
  /** A change that wrote nothing to the database (a cancel sent to Flink), recorded on its own. */
  record(entry: AuditEntry): Promise<void>;
  list(query: AuditQuery, page: PageRequest): Promise<AuditRecord[]>;
}
