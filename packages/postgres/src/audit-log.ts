import type { AuditEntry, AuditLog, AuditQuery, AuditRecord, PageRequest } from '@flink-orchestrator/domain';
import { auditScope } from '@flink-orchestrator/observability';
import type { Knex } from 'knex';
import { guarded } from './connection-errors';
import { keysetPage } from './keyset-pages';

interface AuditRow {
  id: string;
  created_at: Date;
  actor: string;
  action: string;
  target_type: string;
  target_id: string | null;
  job_id: string | null;
  changes: unknown;
  request_id: string | null;
}

const toRow = (entry: AuditEntry) => ({
  actor: entry.actor,
  action: entry.action,
  target_type: entry.targetType,
  target_id: entry.targetId,
  job_id: entry.jobId,
  changes: entry.changes === null ? null : JSON.stringify(entry.changes),
  request_id: entry.requestId,
});

const toRecord = (row: AuditRow): AuditRecord => ({
  id: row.id,
  createdAt: row.created_at,
  actor: row.actor,
  action: row.action,
  targetType: row.target_type,
  targetId: row.target_id,
  jobId: row.job_id,
  changes: row.changes,
  requestId: row.request_id,
});

/** Runs `work` in `db` when it is a transaction already (an audited write's), else in a new one. */
export function withinTransaction<T>(db: Knex, work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  return db.isTransaction ? work(db as Knex.Transaction) : db.transaction(work);
}

/**
 * Runs a write; inside an audited request (see `auditScope`), in a transaction with the
 * request's audit row, so the change and its record commit together or not at all.
 * `created` names the row the write made, or says it changed nothing (null: no row).
 */
export async function audited<T>(
  db: Knex,
  write: (db: Knex) => Promise<T>,
  created: (result: T) => { id?: string } | null = (result) => (result === null || result === false ? null : {}),
): Promise<T> {
  const scope = auditScope.getStore();
  if (!scope || scope.written) return write(db);
  return db.transaction(async (trx) => {
    const result = await write(trx);
    const made = created(result);
    const entry = made ? scope.describe(made.id) : null;
    if (entry) {
      await trx('audit_log').insert(toRow(entry));
      scope.written = true;
    }
    return result;
  });
}

/**
 * Inside an audited request not audited yet: the statement that writes its audit row when
 * `condition` holds (SQL: the change was made), for a write that puts everything in one
 * query string; `written` is to be called once the change is known to be made.
 */
export function auditStatement(
  db: Knex,
  createdId: string,
  condition: string,
): { sql: string; written: () => void } | null {
  const scope = auditScope.getStore();
  const entry = scope && !scope.written ? scope.describe(createdId) : null;
  if (!scope || !entry) return null;
  const sql = db
    .raw(
      `INSERT INTO audit_log (actor, action, target_type, target_id, job_id, changes, request_id)
       SELECT :actor, :action, :target_type, :target_id, :job_id::uuid, :changes::jsonb, :request_id WHERE ${condition}`,
      toRow(entry),
    )
    .toQuery();
  return { sql, written: () => (scope.written = true) };
}

export class KnexAuditLog implements AuditLog {
  constructor(private readonly db: Knex) {}

  record(entry: AuditEntry): Promise<void> {
    return guarded(async () => {
      await this.db('audit_log').insert(toRow(entry));
    });
  }

  list(query: AuditQuery, page: PageRequest): Promise<AuditRecord[]> {
    return guarded(async () => {
      const q = this.db<AuditRow>('audit_log');
      if (query.jobId) q.where('job_id', query.jobId);
      if (query.actor) q.where('actor', query.actor);
      if (query.since) q.where('created_at', '>=', query.since);
      return (await keysetPage(q, page, 'desc')).map(toRecord);
    });
  }
}
