import {
  ACTIVE_STATUSES,
  ClusterChangeWhileActive,
  ExecutionActive,
  JobModified,
  JobNameTaken,
  type Job,
  type JobChanges,
  type PreflightCheck,
  type JobRepository,
  type NewJob,
  type PageRequest,
  replaceModeOf,
  type ScheduleInput,
  UnknownCluster,
} from '@flink-orchestrator/domain';
import type { Knex } from 'knex';
import { audited, withinTransaction } from './audit-log';
import { keysetPage } from './keyset-pages';
import { guarded, isForeignKeyViolation, isUniqueViolation } from './connection-errors';
import { toJob, type ExecutionRow, type JobRow } from './rows';

const COLUMNS = {
  name: 'name',
  jarUrl: 'jar_url',
  entryClass: 'entry_class',
  config: 'config',
  parallelism: 'parallelism',
  enabled: 'enabled',
  cluster: 'cluster',
  admission: 'admission',
  restartPolicy: 'restart_policy',
  savepointRetention: 'savepoint_retention',
} as const;

const JSON_COLUMNS = new Set(['config', 'restartPolicy', 'savepointRetention']);

function toColumns(job: JobChanges): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const [key, column] of Object.entries(COLUMNS)) {
    const value = job[key as keyof JobChanges];
    if (value !== undefined) row[column] = JSON_COLUMNS.has(key) ? JSON.stringify(value) : value;
  }
  return row;
}

export class KnexJobRepository implements JobRepository {
  constructor(private readonly db: Knex) {}

  create(job: NewJob): Promise<Job> {
    return guarded(async () => {
      try {
        return await audited(
          this.db,
          async (db) => toJob((await db<JobRow>('jobs').insert(toColumns(job)).returning('*'))[0] as JobRow),
          (created) => ({ id: created.id }),
        );
      } catch (error) {
        if (isUniqueViolation(error)) throw new JobNameTaken(job.name);
        if (isForeignKeyViolation(error)) throw new UnknownCluster(job.cluster);
        throw error;
      }
    });
  }

  get(id: string): Promise<Job | null> {
    return guarded(async () => {
      const row = await this.db<JobRow>('jobs').where({ id }).first();
      return row ? toJob(row) : null;
    });
  }

  list(page: PageRequest): Promise<Job[]> {
    return guarded(async () => (await keysetPage(this.db<JobRow>('jobs'), page, 'asc')).map(toJob));
  }

  update(id: string, changes: JobChanges, expectedVersion?: number): Promise<Job | null> {
    return guarded(async () => {
      try {
        if (changes.cluster === undefined)
          return await audited(this.db, (db) => this.write(db, id, changes, expectedVersion));
        // Moving to another cluster: the job row lock orders this against a start (which
        // takes it too), so no execution becomes active between the check and the move.
        return await audited(this.db, (db) =>
          withinTransaction(db, async (trx) => {
            const job = await trx<JobRow>('jobs').where({ id }).forUpdate().first('cluster');
            if (job && job.cluster !== changes.cluster) {
              const active = await trx<ExecutionRow>('job_executions')
                .where({ job_id: id })
                .whereIn('status', ACTIVE_STATUSES)
                .first('id', 'status');
              if (active) throw new ClusterChangeWhileActive(id, active.id, active.status);
            }
            return this.write(trx, id, changes, expectedVersion);
          }),
        );
      } catch (error) {
        if (isUniqueViolation(error) && changes.name) throw new JobNameTaken(changes.name);
        if (isForeignKeyViolation(error) && changes.cluster) throw new UnknownCluster(changes.cluster);
        throw error;
      }
    });
  }

  private async write(db: Knex, id: string, changes: JobChanges, expectedVersion?: number): Promise<Job | null> {
    // The version check is part of the UPDATE: two writers holding the same version
    // cannot both succeed.
    const query = db<JobRow>('jobs').where({ id });
    if (expectedVersion !== undefined) query.andWhere({ version: expectedVersion });
    const [row] = await query
      .update({ ...toColumns(changes), updated_at: db.fn.now(), version: db.raw('version + 1') })
      .returning('*');
    return this.written(db, id, row, expectedVersion);
  }

  /** The row an UPDATE based on `expectedVersion` wrote; none: the job is gone (null) or moved on (JobModified). */
  private async written(db: Knex, id: string, row: JobRow | undefined, expectedVersion?: number): Promise<Job | null> {
    if (row) return toJob(row);
    if (expectedVersion === undefined) return null;
    const current = await db<JobRow>('jobs').where({ id }).first('version');
    if (!current) return null;
    throw new JobModified(id, expectedVersion, current.version);
  }

  setSchedule(id: string, schedule: ScheduleInput | null, expectedVersion?: number): Promise<Job | null> {
    return guarded(() => audited(this.db, (db) => this.writeSchedule(db, id, schedule, expectedVersion)));
  }

  private async writeSchedule(
    db: Knex,
    id: string,
    schedule: ScheduleInput | null,
    expectedVersion?: number,
  ): Promise<Job | null> {
    // As in `write`: the version check is part of the UPDATE.
    const query = db<JobRow>('jobs').where({ id });
    if (expectedVersion !== undefined) query.andWhere({ version: expectedVersion });
    const [row] = await query
      .update({
        schedule_cron: schedule?.cron ?? null,
        schedule_timezone: schedule?.timezone ?? null,
        schedule_overlap: schedule?.overlap ?? null,
        schedule_replace: schedule ? replaceModeOf(schedule) : null,
        schedule_start_at: schedule?.startAt ?? null,
        schedule_end_at: schedule?.endAt ?? null,
        schedule_preflight_minutes: schedule?.preflightMinutes ?? null,
        updated_at: db.fn.now(),
        version: db.raw('version + 1'),
      } as Record<string, unknown>)
      .returning('*');
    return this.written(db, id, row, expectedVersion);
  }

  markScheduleRun(id: string, at: Date): Promise<void> {
    return guarded(async () => {
      await this.db('jobs')
        .where({ id })
        .andWhere((q) => {
          q.whereNull('schedule_last_run_at').orWhere('schedule_last_run_at', '<', at);
        })
        .update({ schedule_last_run_at: at });
    });
  }

  recordPreflight(id: string, check: PreflightCheck): Promise<void> {
    return guarded(async () => {
      await this.db('jobs')
        .where({ id })
        .andWhereRaw(
          "(schedule_preflight IS NULL OR (schedule_preflight->>'scheduledFor')::timestamptz <= ?::timestamptz)",
          [check.scheduledFor.toISOString()],
        )
        .update({ schedule_preflight: JSON.stringify(check) });
    });
  }

  listScheduled(): Promise<Job[]> {
    return guarded(async () => (await this.db<JobRow>('jobs').whereNotNull('schedule_cron')).map(toJob));
  }

  /**
   * Refuses while an execution is active: deleting would orphan a Flink job. The version is
   * compared under the row lock, so no change slips in between the check and the delete.
   */
  delete(id: string, expectedVersion?: number): Promise<boolean> {
    return guarded(() =>
      audited(this.db, (db) =>
        withinTransaction(db, async (trx) => {
          const job = await trx<JobRow>('jobs').where({ id }).forUpdate().first('id', 'version');
          if (!job) return false;
          if (expectedVersion !== undefined && job.version !== expectedVersion)
            throw new JobModified(id, expectedVersion, job.version);
          const active = await trx<ExecutionRow>('job_executions')
            .where({ job_id: id })
            .whereIn('status', ACTIVE_STATUSES)
            .first('id', 'status');
          if (active) throw new ExecutionActive(id, active.id, active.status);
          await trx('jobs').where({ id }).delete();
          return true;
        }),
      ),
    );
  }
}
