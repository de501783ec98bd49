import type {
  DisposalOutcome,
  NewSavepoint,
  PageRequest,
  Savepoint,
  SavepointKind,
  SavepointRepository,
  SavepointState,
} from '@flink-orchestrator/domain';
import type { Knex } from 'knex';
import { audited, withinTransaction } from './audit-log';
import { guarded } from './connection-errors';
import { keysetPage } from './keyset-pages';

const TABLE = 'savepoints';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// The statuses of an execution whose restore point must stay: written into SQL as constants.
const ACTIVE_LIST = "'QUEUED', 'SUBMITTING', 'RUNNING', 'STOPPING'";
// A savepoint a start may restore from: the same test as the domain's isRestorable.
const RESTORABLE =
  "status = 'COMPLETED' AND location IS NOT NULL AND disposal_requested_at IS NULL AND disposed_at IS NULL";

interface SavepointRow {
  id: string;
  job_id: string;
  execution_id: string | null;
  cluster: string;
  kind: SavepointKind;
  status: SavepointState;
  trigger_id: string | null;
  location: string | null;
  error_message: string | null;
  created_at: Date;
  completed_at: Date | null;
  disposal_requested_at: Date | null;
  disposal_trigger_id: string | null;
  disposal_error: string | null;
  disposed_at: Date | null;
}

function toSavepoint(row: SavepointRow): Savepoint {
  return {
    id: row.id,
    jobId: row.job_id,
    executionId: row.execution_id,
    cluster: row.cluster,
    kind: row.kind,
    status: row.status,
    triggerId: row.trigger_id,
    location: row.location,
    errorMessage: row.error_message,
    createdAt: row.created_at,
    completedAt: row.completed_at,
    disposal: row.disposal_requested_at
      ? { requestedAt: row.disposal_requested_at, triggerId: row.disposal_trigger_id }
      : null,
    disposalError: row.disposal_error,
    disposedAt: row.disposed_at,
  };
}

export class KnexSavepointRepository implements SavepointRepository {
  constructor(private readonly db: Knex) {}

  begin(savepoint: NewSavepoint): Promise<Savepoint> {
    return guarded(() =>
      audited(
        this.db,
        (db) => this.insertBegun(db, savepoint),
        (made) => ({ id: made.id }),
      ),
    );
  }

  private async insertBegun(db: Knex, savepoint: NewSavepoint): Promise<Savepoint> {
    // The id is made here so that a trigger id derived from it goes in with the row.
    const { rows } = await db.raw<{ rows: SavepointRow[] }>(
      `WITH fresh AS (SELECT gen_random_uuid() AS id)
         INSERT INTO savepoints (id, job_id, execution_id, cluster, kind, status, trigger_id)
         SELECT fresh.id, :jobId, :executionId, :cluster, :kind, 'IN_PROGRESS',
                COALESCE(:triggerId::text, replace(fresh.id::text, '-', ''))
           FROM fresh
         ON CONFLICT (execution_id, trigger_id) DO NOTHING
         RETURNING *`,
      {
        jobId: savepoint.jobId,
        executionId: savepoint.executionId,
        cluster: savepoint.cluster,
        kind: savepoint.kind,
        triggerId: savepoint.triggerId,
      },
    );
    const row =
      rows[0] ??
      (await db<SavepointRow>(TABLE)
        .where({ execution_id: savepoint.executionId, trigger_id: savepoint.triggerId })
        .first());
    if (!row) throw new Error(`savepoint of execution ${savepoint.executionId} neither inserted nor found`);
    return toSavepoint(row);
  }

  adopt(executionId: string, location: string, kind: SavepointKind): Promise<Savepoint | null> {
    return guarded(async () => {
      const [row] = await this.db<SavepointRow>(TABLE)
        .where({ execution_id: executionId, location })
        .update({ kind })
        .returning('*');
      return row ? toSavepoint(row) : null;
    });
  }

  complete(id: string, location: string, at: Date): Promise<Savepoint | null> {
    return this.settle(id, { status: 'COMPLETED', location, completed_at: at, error_message: null });
  }

  fail(id: string, reason: string): Promise<Savepoint | null> {
    return this.settle(id, { status: 'FAILED', error_message: reason });
  }

  private settle(id: string, columns: Partial<SavepointRow>): Promise<Savepoint | null> {
    return guarded(async () => {
      const [row] = await this.db<SavepointRow>(TABLE)
        .where({ id, status: 'IN_PROGRESS' })
        .update(columns)
        .returning('*');
      return row ? toSavepoint(row) : null;
    });
  }

  get(id: string): Promise<Savepoint | null> {
    if (!UUID.test(id)) return Promise.resolve(null);
    return guarded(async () => {
      const row = await this.db<SavepointRow>(TABLE).where({ id }).first();
      return row ? toSavepoint(row) : null;
    });
  }

  listByJob(jobId: string, page: PageRequest): Promise<Savepoint[]> {
    return guarded(async () => {
      return (await keysetPage(this.db<SavepointRow>(TABLE).where({ job_id: jobId }), page, 'desc')).map(toSavepoint);
    });
  }

  latestRestorable(jobId: string): Promise<Savepoint | null> {
    return guarded(async () => {
      const row = await this.db<SavepointRow>(TABLE)
        .where({ job_id: jobId })
        .whereRaw(RESTORABLE)
        .orderBy([
          { column: 'completed_at', order: 'desc' },
          { column: 'id', order: 'desc' },
        ])
        .first();
      return row ? toSavepoint(row) : null;
    });
  }

  producedBy(executionIds: readonly string[]): Promise<Map<string, string[]>> {
    if (executionIds.length === 0) return Promise.resolve(new Map<string, string[]>());
    return guarded(async () => {
      const rows = await this.db<SavepointRow>(TABLE)
        .whereIn('execution_id', executionIds)
        .orderBy('created_at')
        .select('id', 'execution_id');
      const produced = new Map<string, string[]>();
      for (const row of rows) {
        const list = produced.get(row.execution_id as string) ?? [];
        list.push(row.id);
        produced.set(row.execution_id as string, list);
      }
      return produced;
    });
  }

  requestDisposal(jobId: string, id: string, at: Date): Promise<DisposalOutcome> {
    if (!UUID.test(id)) return Promise.resolve({ kind: 'not_found' });
    const requested = (outcome: DisposalOutcome) => (outcome.kind === 'requested' ? {} : null);
    return guarded(() =>
      audited(
        this.db,
        (db) =>
          withinTransaction(db, async (trx) => {
            // The job's savepoint rows locked: two disposals (or a disposal and a new stop) of one
            // job decide one after the other, so "the newest" cannot be disposed of by a race.
            const rows = await trx<SavepointRow>(TABLE).where({ job_id: jobId }).forUpdate().select('*');
            const row = rows.find((r) => r.id === id);
            if (!row) return { kind: 'not_found' } as const;
            const savepoint = toSavepoint(row);
            if (row.disposal_requested_at || row.disposed_at) return { kind: 'requested', savepoint } as const;
            if (row.status !== 'COMPLETED' || !row.location) return { kind: 'not_completed', savepoint } as const;
            const newest = rows
              .filter((r) => r.status === 'COMPLETED' && r.location && !r.disposal_requested_at && !r.disposed_at)
              .sort((a, b) => (b.completed_at?.getTime() ?? 0) - (a.completed_at?.getTime() ?? 0))[0];
            if (newest?.id === id) return { kind: 'newest', savepoint } as const;
            // Read after the lock: a start restoring from it holds the row FOR SHARE until it
            // commits, so its execution is seen here (in use) or it sees this disposal (refused).
            // Any job's: a start may restore from another job's savepoint by its path.
            const users = await trx.raw<{ rows: { id: string }[] }>(
              `SELECT id FROM job_executions
            WHERE status IN (${ACTIVE_LIST}) AND (savepoint_id = ? OR savepoint_path = ?) LIMIT 1`,
              [id, row.location],
            );
            const user = users.rows[0];
            if (user) return { kind: 'in_use', savepoint, executionId: user.id } as const;
            const [updated] = await trx<SavepointRow>(TABLE)
              .where({ id })
              .update({ disposal_requested_at: at, disposal_trigger_id: null, disposal_error: null })
              .returning('*');
            return { kind: 'requested', savepoint: toSavepoint(updated as SavepointRow) } as const;
          }),
        requested,
      ),
    );
  }

  recordDisposalTrigger(id: string, triggerId: string | null): Promise<void> {
    return guarded(async () => {
      await this.db(TABLE).where({ id }).whereNull('disposed_at').update({ disposal_trigger_id: triggerId });
    });
  }

  markDisposed(id: string, at: Date): Promise<Savepoint | null> {
    return guarded(async () => {
      const [row] = await this.db<SavepointRow>(TABLE)
        .where({ id })
        .whereNotNull('disposal_requested_at')
        .whereNull('disposed_at')
        .update({ disposed_at: at, disposal_error: null })
        .returning('*');
      return row ? toSavepoint(row) : null;
    });
  }

  recordDisposalFailure(id: string, reason: string): Promise<Savepoint | null> {
    return guarded(async () => {
      const [row] = await this.db<SavepointRow>(TABLE)
        .where({ id })
        .whereNull('disposed_at')
        .update({ disposal_requested_at: null, disposal_trigger_id: null, disposal_error: reason })
        .returning('*');
      return row ? toSavepoint(row) : null;
    });
  }

  listPendingDisposals(requestedBefore: Date, limit: number): Promise<Savepoint[]> {
    return guarded(async () => {
      const rows = await this.db<SavepointRow>(TABLE)
        .whereNotNull('disposal_requested_at')
        .whereNull('disposed_at')
        .where('disposal_requested_at', '<', requestedBefore)
        .orderBy('disposal_requested_at')
        .limit(limit);
      return rows.map(toSavepoint);
    });
  }

  listPendingTakes(createdBefore: Date, limit: number): Promise<Savepoint[]> {
    return guarded(async () => {
      const rows = await this.db<SavepointRow>(TABLE)
        .where({ status: 'IN_PROGRESS' })
        .whereIn('kind', ['manual', 'periodic'])
        .where('created_at', '<', createdBefore)
        .orderBy('created_at')
        .limit(limit);
      return rows.map(toSavepoint);
    });
  }

  jobsWithRestorable(afterJobId: string | null, limit: number): Promise<string[]> {
    return guarded(async () => {
      // Only jobs with more than one: the newest is always kept, so a job with one has nothing to dispose of.
      const query = this.db<SavepointRow>(TABLE).whereRaw(RESTORABLE);
      if (afterJobId !== null) query.andWhere('job_id', '>', afterJobId);
      const rows = await query
        .groupBy('job_id')
        .havingRaw('count(*) > 1')
        .orderBy('job_id')
        .limit(limit)
        .select('job_id');
      return rows.map((row) => row.job_id);
    });
  }

  listRestorable(jobId: string): Promise<Savepoint[]> {
    return guarded(async () => {
      const rows = await this.db<SavepointRow>(TABLE)
        .where({ job_id: jobId })
        .whereRaw(RESTORABLE)
        .orderBy([{ column: 'completed_at', order: 'desc' }, { column: 'id' }]);
      return rows.map(toSavepoint);
    });
  }

  inUse(): Promise<Set<string>> {
    return guarded(async () => {
      const rows = await this.db('job_executions')
        .whereRaw(`status IN (${ACTIVE_LIST}) AND (savepoint_id IS NOT NULL OR savepoint_path IS NOT NULL)`)
        .select('savepoint_id', 'savepoint_path');
      const used = new Set<string>();
      for (const row of rows as { savepoint_id: string | null; savepoint_path: string | null }[]) {
        if (row.savepoint_id) used.add(row.savepoint_id);
        if (row.savepoint_path) used.add(row.savepoint_path);
      }
      return used;
    });
  }
}
