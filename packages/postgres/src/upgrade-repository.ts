import {
  JobModified,
  JobNotFound,
  type NewUpgrade,
  type PageRequest,
  type Upgrade,
  type UpgradeChanges,
  type UpgradeLogEntry,
  type UpgradeMode,
  type UpgradePatch,
  type UpgradeRepository,
  type UpgradeStatus,
  type UpgradeStep,
} from '@flink-orchestrator/domain';
import type { Knex } from 'knex';
import { audited, withinTransaction } from './audit-log';
import { guarded, isUniqueViolation } from './connection-errors';
import { keysetPage } from './keyset-pages';

const TABLE = 'upgrades';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type LogJson = Omit<UpgradeLogEntry, 'at'> & { at: string };

interface UpgradeRow {
  id: string;
  job_id: string;
  mode: UpgradeMode;
  changes: UpgradeChanges;
  allow_non_restored_state: boolean;
  status: UpgradeStatus;
  step: UpgradeStep;
  steps: LogJson[];
  from_execution_id: string | null;
  to_execution_id: string | null;
  savepoint_id: string | null;
  savepoint_location: string | null;
  stop_requested_at: Date | null;
  job_version_before: number;
  job_version_after: number | null;
  error_message: string | null;
  recovery: string | null;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
}

function toUpgrade(row: UpgradeRow): Upgrade {
  return {
    id: row.id,
    jobId: row.job_id,
    mode: row.mode,
    changes: row.changes,
    allowNonRestoredState: row.allow_non_restored_state,
    status: row.status,
    step: row.step,
    steps: row.steps.map((entry) => ({ ...entry, at: new Date(entry.at) })),
    fromExecutionId: row.from_execution_id,
    toExecutionId: row.to_execution_id,
    savepointId: row.savepoint_id,
    savepointLocation: row.savepoint_location,
    stopRequestedAt: row.stop_requested_at,
    jobVersionBefore: row.job_version_before,
    jobVersionAfter: row.job_version_after,
    errorMessage: row.error_message,
    recovery: row.recovery,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
  };
}

const PATCH_COLUMNS: Record<keyof UpgradePatch, keyof UpgradeRow> = {
  step: 'step',
  status: 'status',
  toExecutionId: 'to_execution_id',
  savepointId: 'savepoint_id',
  savepointLocation: 'savepoint_location',
  stopRequestedAt: 'stop_requested_at',
  jobVersionAfter: 'job_version_after',
  errorMessage: 'error_message',
  recovery: 'recovery',
  finishedAt: 'finished_at',
};

export class KnexUpgradeRepository implements UpgradeRepository {
  constructor(private readonly db: Knex) {}

  create(upgrade: NewUpgrade, options: { expectedJobVersion?: number } = {}): Promise<Upgrade | 'in_progress'> {
    const expected = options.expectedJobVersion;
    return guarded(async () => {
      try {
        const insert = async (db: Knex) => {
          const [row] = await db<UpgradeRow>(TABLE)
            .insert({
              job_id: upgrade.jobId,
              mode: upgrade.mode,
              changes: JSON.stringify(upgrade.changes) as unknown as UpgradeChanges,
              allow_non_restored_state: upgrade.allowNonRestoredState,
              status: upgrade.status,
              step: upgrade.step,
              steps: JSON.stringify(upgrade.steps) as unknown as LogJson[],
              from_execution_id: upgrade.fromExecutionId,
              job_version_before: upgrade.jobVersionBefore,
              job_version_after: upgrade.jobVersionAfter ?? null,
              finished_at: upgrade.finishedAt ?? null,
            })
            .returning('*');
          return toUpgrade(row as UpgradeRow);
        };
        if (expected === undefined) return await audited(this.db, insert, (made) => ({ id: made.id }));
        // The job row stays locked (FOR SHARE) until the record is in: no change of the job
        // commits between the version check and the insert.
        const checked = (db: Knex) =>
          withinTransaction(db, async (trx) => {
            const job = await trx<{ id: string; version: number }>('jobs')
              .where({ id: upgrade.jobId })
              .forShare()
              .first('version');
            if (!job) throw new JobNotFound(upgrade.jobId);
            if (job.version !== expected) throw new JobModified(upgrade.jobId, expected, job.version);
            return insert(trx);
          });
        return await audited(this.db, checked, (made) => ({ id: made.id }));
      } catch (error) {
        if (isUniqueViolation(error, 'upgrades_one_per_job_uq')) return 'in_progress';
        throw error;
      }
    });
  }

  get(id: string): Promise<Upgrade | null> {
    if (!UUID.test(id)) return Promise.resolve(null);
    return guarded(async () => {
      const row = await this.db<UpgradeRow>(TABLE).where({ id }).first();
      return row ? toUpgrade(row) : null;
    });
  }

  listByJob(jobId: string, page: PageRequest): Promise<Upgrade[]> {
    return guarded(async () => {
      return (await keysetPage(this.db<UpgradeRow>(TABLE).where({ job_id: jobId }), page, 'desc')).map(toUpgrade);
    });
  }

  listInProgress(limit: number): Promise<Upgrade[]> {
    return guarded(async () => {
      const rows = await this.db<UpgradeRow>(TABLE).where({ status: 'IN_PROGRESS' }).orderBy('created_at').limit(limit);
      return rows.map(toUpgrade);
    });
  }

  advance(id: string, fromStep: UpgradeStep, patch: UpgradePatch, log?: UpgradeLogEntry): Promise<Upgrade | null> {
    return guarded(async () => {
      const columns: Record<string, unknown> = {
        updated_at: this.db.raw("date_trunc('milliseconds', clock_timestamp())"),
      };
      for (const [key, column] of Object.entries(PATCH_COLUMNS)) {
        const value = patch[key as keyof UpgradePatch];
        if (value !== undefined) columns[column] = value;
      }
      if (log) columns.steps = this.db.raw('steps || ?::jsonb', [JSON.stringify([log])]);
      const [row] = await this.db<UpgradeRow>(TABLE)
        .where({ id, step: fromStep, status: 'IN_PROGRESS' })
        .update(columns)
        .returning('*');
      return row ? toUpgrade(row) : null;
    });
  }
}
