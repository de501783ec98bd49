import { randomUUID } from 'node:crypto';
import {
  ACTIVE_STATUSES,
  assertTransition,
  isTerminal,
  statusesLeadingTo,
  type Execution,
  type ExecutionFilter,
  type ExecutionPatch,
  type ExecutionRepository,
  type ExecutionStatus,
  type FlinkStateChange,
  type InsertOptions,
  type InsertOutcome,
  type NewExecution,
  type NotRunTick,
  type ObservedExecution,
  type PageRequest,
  type RestartDecision,
  type UndecidedFailure,
} from '@flink-orchestrator/domain';
import type { Knex } from 'knex';
import { auditStatement, audited } from './audit-log';
import { TAKEN_SLOTS } from './cluster-observations';
import { guarded, isUniqueViolation } from './connection-errors';
import { keysetPage } from './keyset-pages';
import { patchColumns, toExecution, type ExecutionRow } from './rows';

const TABLE = 'job_executions';
// Constants, so safe to write into SQL text where a statement cannot take parameters.
const ACTIVE_LIST = ACTIVE_STATUSES.map((status) => `'${status}'`).join(', ');
// Which execution holds a job's latest savepoint: latestSavepoint() and the retention
// chore, which must keep that one, have to agree.
const LATEST_SAVEPOINT_ORDER = 'finished_at DESC NULLS FIRST, id DESC';
// The statuses in which Flink may run an execution's job: the predicate of
// job_executions_observed_idx, written the same way so the planner can use it.
const OBSERVED_LIST = "'SUBMITTING', 'RUNNING', 'STOPPING'";
const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

export interface ExecutionRepositoryOptions {
  /**
   * Told of each execution this repository recorded ended (`transition` to a terminal status):
   * the metric the failure alert reads, now that unwanted events never reach the relay.
   */
  onEnded?: (status: ExecutionStatus) => void;
}

export class KnexExecutionRepository implements ExecutionRepository {
  constructor(
    private readonly db: Knex,
    private readonly options: ExecutionRepositoryOptions = {},
  ) {}

  insert(execution: NewExecution, options: InsertOptions): Promise<InsertOutcome> {
    return guarded(async () => {
      try {
        return await this.insertInOneRoundTrip(execution, options);
      } catch (error) {
        if (isUniqueViolation(error, 'job_executions_tick_uq')) return { kind: 'duplicate_tick' };
        if (isUniqueViolation(error, 'job_executions_upgrade_uq')) {
          const row = await this.db<ExecutionRow>(TABLE).where({ upgrade_id: execution.upgradeId }).first();
          return { kind: 'duplicate_upgrade', execution: row ? toExecution(row) : null };
        }
        if (isUniqueViolation(error, 'job_executions_restart_of_uq')) {
          const row = await this.db<ExecutionRow>(TABLE).where({ restart_of: execution.restartOf }).first();
          return { kind: 'duplicate_restart', restart: row ? toExecution(row) : null };
        }
        throw error;
      }
    });
  }

  /**
   * Lock, checks, insert and the request's audit row in one query string: one round trip
   * for a start. A query string of several statements runs as one transaction (any error
   * rolls all of it back), and under READ COMMITTED each statement takes its own snapshot:
   * the INSERT, after the job row lock is held, sees every execution committed by a start
   * that held the lock before, so two racing starts give one `created`, one `active`. Such a
   * query takes no parameters, so knex inlines the values, escaped; the execution's id is
   * chosen here so the audit statement can name the row without reading it back.
   */
  private async insertInOneRoundTrip(execution: NewExecution, options: InsertOptions): Promise<InsertOutcome> {
    const id = randomUUID();
    const queued = execution.status === 'QUEUED';
    const restores = execution.savepointPath !== null || Boolean(execution.savepointId);
    const conditions = [
      options.requireEnabled ? 'job.enabled' : null,
      options.exclusive ? 'NOT EXISTS (SELECT 1 FROM active)' : null,
      // Read after the savepoint lock below: a disposal asked for before it refuses the start.
      restores
        ? `NOT EXISTS (SELECT 1 FROM savepoints sp WHERE (sp.id = :savepointId::uuid OR sp.location = :savepointPath)
                        AND (sp.disposal_requested_at IS NOT NULL OR sp.disposed_at IS NOT NULL))`
        : null,
    ].filter((c): c is string => c !== null);
    const lock = this.db.raw('SELECT enabled FROM jobs WHERE id = ? FOR UPDATE', [execution.jobId]).toQuery();
    // The savepoint records the start restores from, locked against a disposal (which locks
    // them FOR UPDATE) until this start commits: the disposal then sees this execution, in use;
    // or, having committed first, refuses this start. Restore and disposal are one decision.
    const savepointLock = restores
      ? this.db
          .raw('SELECT id FROM savepoints WHERE id = ?::uuid OR location = ? FOR SHARE', [
            execution.savepointId ?? null,
            execution.savepointPath,
          ])
          .toQuery()
      : null;
    const insert = this.db
      .raw(
        // The execution in the way is read in the insert's own snapshot: read by a statement
        // of its own, it could have ended in between (a stop needs no job lock).
        `WITH active AS (
           SELECT * FROM ${TABLE} WHERE job_id = :jobId AND status IN (${ACTIVE_LIST}) ORDER BY created_at DESC LIMIT 1),
         inserted AS (
         INSERT INTO ${TABLE} (id, job_id, cluster, trigger, status, parallelism, savepoint_path, savepoint_id,
                               allow_non_restored_state, scheduled_for, restart_of, upgrade_id, preflight, not_before,
                               error_message, finished_at${queued ? ', jar_url, entry_class, config, job_version, admission' : ''})
         SELECT :id, job.id, job.cluster, :trigger, :status, COALESCE(:parallelism::integer, job.parallelism),
                :savepointPath, :savepointId::uuid, :allowNonRestoredState, :scheduledFor::timestamptz, :restartOf::uuid,
                :upgradeId::uuid, :preflight::jsonb, :notBefore::timestamptz, :errorMessage,
                ${queued ? 'NULL' : 'now()'}
                -- A QUEUED execution runs the job as its locked row is now; one born ended runs nothing.
                ${queued ? ', job.jar_url, job.entry_class, job.config, job.version, job.admission' : ''}
           FROM jobs job
          WHERE job.id = :jobId ${conditions.map((c) => `AND ${c}`).join(' ')}
         RETURNING *)
         SELECT 'created' AS outcome, inserted.* FROM inserted
         UNION ALL
         SELECT 'active', active.* FROM active WHERE NOT EXISTS (SELECT 1 FROM inserted)`,
        {
          id,
          jobId: execution.jobId,
          trigger: execution.trigger,
          status: execution.status,
          parallelism: execution.parallelism,
          savepointPath: execution.savepointPath,
          savepointId: execution.savepointId ?? null,
          allowNonRestoredState: execution.allowNonRestoredState,
          scheduledFor: execution.scheduledFor?.toISOString() ?? null,
          restartOf: execution.restartOf ?? null,
          upgradeId: execution.upgradeId ?? null,
          preflight: execution.preflight ? JSON.stringify(execution.preflight) : null,
          notBefore: execution.notBefore?.toISOString() ?? null,
          errorMessage: execution.errorMessage ?? null,
        },
      )
      .toQuery();
    const audit = auditStatement(this.db, id, `EXISTS (SELECT 1 FROM ${TABLE} WHERE id = '${id}')`);
    const statements = [lock, ...(savepointLock ? [savepointLock] : []), insert, ...(audit ? [audit.sql] : [])];
    const results = (await this.db.raw(statements.join(';\n'))) as unknown as unknown[];
    const locked = results[0] as { rows: { enabled: boolean }[] };
    const written = results[savepointLock ? 2 : 1] as { rows: (ExecutionRow & { outcome: 'created' | 'active' })[] };
    const job = locked.rows[0];
    if (!job) return { kind: 'job_missing' };
    const { outcome, ...row } = written.rows[0] ?? { outcome: null };
    if (outcome === 'created') {
      audit?.written();
      return { kind: 'created', execution: toExecution(row as ExecutionRow) };
    }
    if (options.requireEnabled && !job.enabled) return { kind: 'job_disabled' };
    // The active row comes back whenever nothing went in; it is the refusal only of an exclusive insert.
    if (outcome === 'active' && options.exclusive) return { kind: 'active', active: toExecution(row as ExecutionRow) };
    if (restores) return { kind: 'savepoint_disposed' };
    throw new Error(`execution of job ${execution.jobId} neither inserted nor refused`);
  }

  insertTick(tick: NewExecution & { scheduledFor: Date }, options: { skipIfActive: boolean }): Promise<InsertOutcome> {
    return this.tick(tick, options, null);
  }

  async insertExpectedTick(
    tick: NewExecution & { scheduledFor: Date },
    options: { skipIfActive: boolean; expect: { version: number; previousTick: Date | null } },
  ): Promise<InsertOutcome | { kind: 'stale' }> {
    const outcome = await this.tick(tick, options, options.expect);
    return outcome.kind === 'job_missing' ? { kind: 'stale' } : outcome;
  }

  private tick(
    tick: NewExecution & { scheduledFor: Date },
    options: { skipIfActive: boolean },
    expect: { version: number; previousTick: Date | null } | null,
  ): Promise<InsertOutcome> {
    return guarded(async () => {
      // Two statements, one round trip (a tick is the hottest write there is). A query
      // string of several statements runs as one transaction, and under READ COMMITTED each
      // statement takes its own snapshot: the INSERT sees every execution committed before
      // the UPDATE got the job row lock, which orders this tick against starts of the same
      // job. Such a query takes no parameters, so knex inlines the values, escaped (the time
      // as ISO 8601 with its zone: knex writes a Date in local time without one).
      const scheduledFor = tick.scheduledFor.toISOString();
      // The expected job: that version, and no tick due since its last tick or change. Both
      // statements check it; the UPDATE only raises schedule_last_run_at, which keeps it true.
      const expected = {
        checked: expect !== null,
        version: expect?.version ?? 0,
        previousTick: expect?.previousTick?.toISOString() ?? '-infinity',
      };
      const isExpected = (job: string) =>
        `(NOT :checked OR (${job}version = :version AND GREATEST(COALESCE(${job}schedule_last_run_at, '-infinity'::timestamptz), ${job}updated_at) >= :previousTick::timestamptz))`;
      const lock = this.db('jobs')
        .where({ id: tick.jobId })
        .whereRaw(this.db.raw(isExpected(''), expected))
        .update({
          // GREATEST ignores a NULL; the update always takes the lock and records the newest tick.
          schedule_last_run_at: this.db.raw('GREATEST(schedule_last_run_at, ?::timestamptz)', [scheduledFor]),
        })
        .toQuery();
      const insert = this.db
        .raw(
          `WITH active AS (
             SELECT id, status FROM job_executions
              WHERE job_id = :jobId AND status IN (${ACTIVE_LIST}) ORDER BY created_at DESC LIMIT 1),
           decided AS (
             SELECT CASE WHEN :skip AND EXISTS (SELECT 1 FROM active) THEN 'SKIPPED' ELSE 'QUEUED' END AS status)
           INSERT INTO job_executions (job_id, cluster, trigger, status, parallelism, scheduled_for, error_message, finished_at,
                                       jar_url, entry_class, config, job_version, admission, preflight)
           SELECT job.id, job.cluster, 'schedule', decided.status, COALESCE(:parallelism::integer, job.parallelism),
                  :scheduledFor::timestamptz,
                  CASE WHEN decided.status = 'SKIPPED'
                       THEN 'Skipped: execution ' || (SELECT id FROM active) || ' is still ' || (SELECT status FROM active) || '.' END,
                  CASE WHEN decided.status = 'SKIPPED' THEN now() END,
                  -- The definition it runs, from the row the first statement locked; none for a skipped tick.
                  CASE WHEN decided.status = 'QUEUED' THEN job.jar_url END,
                  CASE WHEN decided.status = 'QUEUED' THEN job.entry_class END,
                  CASE WHEN decided.status = 'QUEUED' THEN job.config END,
                  CASE WHEN decided.status = 'QUEUED' THEN job.version END,
                  -- The column's default on a skipped one, as on every row that never runs.
                  CASE WHEN decided.status = 'QUEUED' THEN job.admission ELSE 'slots' END,
                  :preflight::jsonb
             FROM decided CROSS JOIN jobs job
            WHERE job.id = :jobId AND ${isExpected('job.')}
           ON CONFLICT (job_id, scheduled_for) WHERE scheduled_for IS NOT NULL DO NOTHING
           RETURNING *`,
          {
            jobId: tick.jobId,
            skip: options.skipIfActive,
            parallelism: tick.parallelism,
            scheduledFor,
            preflight: tick.preflight ? JSON.stringify(tick.preflight) : null,
            ...expected,
          },
        )
        .toQuery();
      const [locked, inserted] = (await this.db.raw(`${lock};\n${insert}`)) as unknown as [
        { rowCount: number },
        { rows: ExecutionRow[] },
      ];
      if (locked.rowCount === 0) return { kind: 'job_missing' } as const;
      const row = inserted.rows[0];
      return row ? ({ kind: 'created', execution: toExecution(row) } as const) : ({ kind: 'duplicate_tick' } as const);
    });
  }

  insertNotRun(jobId: string, parallelism: number | null, ticks: NotRunTick[]): Promise<NotRunTick[]> {
    if (ticks.length === 0) return Promise.resolve([]);
    return guarded(async () => {
      const sorted = [...ticks].sort((a, b) => a.scheduledFor.getTime() - b.scheduledFor.getTime());
      const newest = (sorted[sorted.length - 1] as NotRunTick).scheduledFor;
      // One statement for all of them. The rows of one statement share a creation millisecond
      // or a few, and the history orders by (created_at, id): ids that grow with the tick time
      // (a UUIDv7 layout: the time in ms, then the row's ordinal) keep it in tick order.
      const { rows } = await this.db.raw<{ rows: { scheduled_for: Date; status: NotRunTick['status'] }[] }>(
        `WITH ticks AS (
           SELECT t.scheduled_for, t.status, t.error_message, t.ord
             FROM jsonb_to_recordset(:ticks::jsonb) AS t(scheduled_for timestamptz, status text, error_message text, ord int)
         ),
         inserted AS (
           INSERT INTO job_executions (id, job_id, cluster, trigger, status, parallelism, scheduled_for, error_message, finished_at)
           SELECT (lpad(to_hex((extract(epoch from clock_timestamp()) * 1000)::bigint), 12, '0')
                   || '7' || lpad(to_hex(ticks.ord % 4096), 3, '0')
                   || '8' || substr(md5(random()::text), 1, 15))::uuid,
                  :jobId, (SELECT cluster FROM jobs WHERE id = :jobId), 'schedule', ticks.status, :parallelism, ticks.scheduled_for, ticks.error_message, now()
             FROM ticks
            WHERE EXISTS (SELECT 1 FROM jobs WHERE id = :jobId)
            ORDER BY ticks.scheduled_for
           ON CONFLICT (job_id, scheduled_for) WHERE scheduled_for IS NOT NULL DO NOTHING
           RETURNING scheduled_for, status
         ),
         marked AS (
           UPDATE jobs SET schedule_last_run_at = GREATEST(schedule_last_run_at, :newest::timestamptz)
            WHERE id = :jobId
         )
         SELECT scheduled_for, status FROM inserted`,
        {
          jobId,
          parallelism,
          newest: newest.toISOString(),
          ticks: JSON.stringify(
            sorted.map((t, ord) => ({
              scheduled_for: t.scheduledFor.toISOString(),
              status: t.status,
              error_message: t.errorMessage,
              ord,
            })),
          ),
        },
      );
      const messages = new Map(sorted.map((t) => [t.scheduledFor.getTime(), t.errorMessage]));
      return rows
        .map((r) => ({
          scheduledFor: r.scheduled_for,
          status: r.status,
          errorMessage: messages.get(r.scheduled_for.getTime()) ?? '',
        }))
        .sort((a, b) => a.scheduledFor.getTime() - b.scheduledFor.getTime());
    });
  }

  findTick(jobId: string, scheduledFor: Date): Promise<Execution | null> {
    return guarded(async () => {
      const row = await this.db<ExecutionRow>(TABLE).where({ job_id: jobId, scheduled_for: scheduledFor }).first();
      return row ? toExecution(row) : null;
    });
  }

  get(id: string): Promise<Execution | null> {
    return guarded(async () => {
      const row = await this.db<ExecutionRow>(TABLE).where({ id }).first();
      return row ? toExecution(row) : null;
    });
  }

  list(filter: ExecutionFilter, page: PageRequest): Promise<Execution[]> {
    return guarded(async () => {
      // Served by job_executions_job_newest_idx (jobId), _status_newest_idx (status) or
      // _newest_idx: each reads the page in index order and stops.
      const query = keysetPage(this.db<ExecutionRow>(TABLE), page, 'desc');
      if (filter.status) query.andWhere('status', filter.status);
      if (filter.trigger) query.andWhere('trigger', filter.trigger);
      if (filter.jobId) query.andWhere('job_id', filter.jobId);
      if (filter.since) query.andWhere('created_at', '>=', filter.since);
      if (filter.until) query.andWhere('created_at', '<', filter.until);
      return (await query).map(toExecution);
    });
  }

  listByJob(jobId: string, page: PageRequest, status?: ExecutionStatus): Promise<Execution[]> {
    return guarded(async () => {
      const query = keysetPage(this.db<ExecutionRow>(TABLE).where({ job_id: jobId }), page, 'desc');
      if (status) query.andWhere({ status });
      return (await query).map(toExecution);
    });
  }

  findActive(jobId: string): Promise<Execution[]> {
    return guarded(async () => {
      const rows = await this.db<ExecutionRow>(TABLE)
        .where({ job_id: jobId })
        .whereIn('status', ACTIVE_STATUSES)
        .orderBy('created_at', 'desc');
      return rows.map(toExecution);
    });
  }

  async transition(
    id: string,
    to: ExecutionStatus,
    patch: ExecutionPatch = {},
    onlyFrom?: readonly ExecutionStatus[],
    guard?: { stopRequestedAt: Date },
  ): Promise<Execution | null> {
    for (const from of onlyFrom ?? []) assertTransition(from, to);
    const moved = await this.update(
      id,
      onlyFrom ?? statusesLeadingTo(to),
      { ...patchColumns(patch), status: to },
      guard,
    );
    if (moved && isTerminal(to)) this.options.onEnded?.(to);
    return moved;
  }

  claimAdmitted(id: string, patch: ExecutionPatch, settleMs: number): Promise<Execution | null> {
    return guarded(async () => {
      const slots = `cluster_observations o WHERE o.cluster = ${TABLE}.cluster AND o.slots_observed_at IS NOT NULL`;
      const rows = (await this.db(TABLE)
        .where({ id, status: 'QUEUED' })
        .whereRaw('(not_before IS NULL OR not_before <= now())')
        .whereRaw(
          `(admission = 'ignore' OR NOT EXISTS (SELECT 1 FROM ${slots})
            OR EXISTS (SELECT 1 FROM ${slots}
                        AND o.slots_free - ${TAKEN_SLOTS} >= COALESCE(${TABLE}.parallelism, o.default_parallelism, 1)))`,
          [settleMs],
        )
        .update({ ...patchColumns(patch), status: 'SUBMITTING', updated_at: this.db.fn.now() })
        .returning('*')) as ExecutionRow[];
      return rows[0] ? toExecution(rows[0]) : null;
    });
  }

  patch(id: string, whileIn: readonly ExecutionStatus[], patch: ExecutionPatch): Promise<Execution | null> {
    return this.update(id, whileIn, patchColumns(patch));
  }

  private update(
    id: string,
    whileIn: readonly ExecutionStatus[],
    columns: Record<string, unknown>,
    guard?: { stopRequestedAt: Date },
  ): Promise<Execution | null> {
    // A stop asked through the API is audited with its write.
    return guarded(() =>
      audited(this.db, async (db) => {
        const query = db(TABLE).where({ id }).whereIn('status', whileIn);
        if (guard) query.andWhere({ stop_requested_at: guard.stopRequestedAt });
        const rows = (await query.update({ ...columns, updated_at: db.fn.now() }).returning('*')) as ExecutionRow[];
        return rows[0] ? toExecution(rows[0]) : null;
      }),
    );
  }

  /**
   * Each statement locks the execution rows before it touches their events, as the status
   * change that releases them does: a discard (FOR UPDATE) and a release exclude each other
   * and cannot deadlock. KEY SHARE lets the workers' status updates pass.
   */
  confirmQueued(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return Promise.resolve();
    const list = ids.map(() => '?').join(', ');
    return guarded(async () => {
      const lock = this.db.raw(`SELECT id FROM ${TABLE} WHERE id IN (${list}) FOR KEY SHARE`, ids).toQuery();
      const release = this.db
        .raw(`UPDATE events SET held = false, tx = pg_current_xact_id() WHERE held AND execution_id IN (${list})`, ids)
        .toQuery();
      await this.db.raw(`${lock};\n${release}`);
    });
  }

  /**
   * Lock, then in one snapshot taken under it: the execution goes only while its event is
   * held (no one has released it: its message was never seen), with that event and the
   * audit row its request wrote, so a refused start leaves nothing to tell. One round trip,
   * one transaction.
   */
  discard(id: string): Promise<boolean> {
    return guarded(async () => {
      const lock = this.db.raw(`SELECT id FROM ${TABLE} WHERE id = ? AND status = 'QUEUED' FOR UPDATE`, [id]).toQuery();
      const remove = this.db
        .raw(
          `WITH held AS (SELECT id FROM events WHERE held AND execution_id = :id),
           gone AS (
             DELETE FROM ${TABLE} WHERE id = :id AND status = 'QUEUED' AND EXISTS (SELECT 1 FROM held)
             RETURNING id, job_id),
           events_gone AS (DELETE FROM events WHERE id IN (SELECT id FROM held) AND EXISTS (SELECT 1 FROM gone)),
           audit_gone AS (
             DELETE FROM audit_log a USING gone
              WHERE a.job_id = gone.job_id AND a.target_type = 'execution' AND a.target_id = gone.id::text)
           SELECT count(*)::int AS discarded FROM gone`,
          { id },
        )
        .toQuery();
      const [, removed] = (await this.db.raw(`${lock};\n${remove}`)) as unknown as [
        unknown,
        { rows: { discarded: number }[] },
      ];
      return (removed.rows[0]?.discarded ?? 0) > 0;
    });
  }

  listActive(updatedBefore?: Date): Promise<Execution[]> {
    return guarded(async () => {
      const query = this.db<ExecutionRow>(TABLE).whereIn('status', ACTIVE_STATUSES);
      if (updatedBefore) query.andWhere('updated_at', '<', updatedBefore);
      return (await query.orderBy('updated_at', 'asc').limit(10_000)).map(toExecution);
    });
  }

  latestSavepoint(jobId: string): Promise<string | null> {
    return guarded(async () => {
      const row = await this.db<ExecutionRow>(TABLE)
        .where({ job_id: jobId })
        .whereNotNull('savepoint_location')
        .orderByRaw(LATEST_SAVEPOINT_ORDER)
        .first('savepoint_location');
      return row?.savepoint_location ?? null;
    });
  }

  deleteEnded(statuses: readonly ExecutionStatus[], endedBefore: Date, limit: number): Promise<number> {
    return guarded(async () => {
      for (const status of statuses) if (!isTerminal(status)) throw new Error(`${status} is not an ended status`);
      // finished_at >= created_at, so the created_at bound lets the status index find them.
      const victims = this.db(`${TABLE} as e`)
        .select('e.id')
        .whereIn('e.status', statuses)
        .andWhere('e.created_at', '<', endedBefore)
        .andWhereRaw('COALESCE(e.finished_at, e.created_at) < ?', [endedBefore])
        .andWhere((q) => {
          q.whereNull('e.savepoint_location').orWhereRaw(
            `e.id <> (SELECT l.id FROM ${TABLE} l
                       WHERE l.job_id = e.job_id AND l.savepoint_location IS NOT NULL
                       ORDER BY ${LATEST_SAVEPOINT_ORDER} LIMIT 1)`,
          );
        })
        .limit(limit);
      return this.db(TABLE).whereIn('id', victims).delete();
    });
  }

  countRestarts(jobId: string, since: Date, failureId: string): Promise<number> {
    return guarded(async () => {
      const row = await this.db(TABLE)
        .where({ job_id: jobId, trigger: 'restart' })
        .where('created_at', '>=', since)
        .whereRaw('restart_of IS DISTINCT FROM ?', [failureId])
        .count<{ count: string }[]>('* as count')
        .first();
      return Number(row?.count ?? 0);
    });
  }

  recordRestartDecision(id: string, decision: RestartDecision): Promise<boolean> {
    return guarded(async () => {
      const updated = await this.db(TABLE)
        .where({ id })
        .whereNull('restart_decision')
        .update({ restart_decision: JSON.stringify(decision) });
      return updated > 0;
    });
  }

  listUndecidedFailures(endedAfter: Date, limit: number): Promise<UndecidedFailure[]> {
    return guarded(async () => {
      // The predicate of job_executions_undecided_idx, then the job's policy.
      const { rows } = await this.db.raw<{ rows: { id: string; job_id: string }[] }>(
        `SELECT e.id, e.job_id FROM job_executions e JOIN jobs j ON j.id = e.job_id
          WHERE e.status IN ('FAILED', 'LOST') AND e.restart_decision IS NULL AND e.started_at IS NOT NULL
            AND e.finished_at > :endedAfter
            AND ((e.status = 'FAILED' AND j.restart_policy->>'onFailure' = 'restart')
              OR (e.status = 'LOST' AND j.restart_policy->>'onLost' = 'restart'))
          ORDER BY e.finished_at LIMIT :limit`,
        { endedAfter, limit },
      );
      return rows.map((r) => ({ id: r.id, jobId: r.job_id }));
    });
  }

  countByStatus(): Promise<Partial<Record<ExecutionStatus, number>>> {
    return guarded(async () => {
      const rows = await this.db(TABLE)
        .select('status')
        .count<{ status: ExecutionStatus; count: string }[]>('* as count')
        .groupBy('status');
      return Object.fromEntries(rows.map((r) => [r.status, Number(r.count)]));
    });
  }

  listObserved(cluster: string): Promise<ObservedExecution[]> {
    return guarded(async () => {
      // Served by job_executions_observed_idx (its predicate is repeated so the planner sees it).
      const { rows } = await this.db.raw<{
        rows: Pick<ExecutionRow, 'id' | 'job_id' | 'status' | 'flink_job_id' | 'flink_state'>[];
      }>(
        `SELECT id, job_id, status, flink_job_id, flink_state FROM ${TABLE}
          WHERE cluster = ? AND status IN (${OBSERVED_LIST})
            AND (status = 'RUNNING' OR run_requested_at IS NOT NULL)
            AND flink_job_id IS NOT NULL`,
        [cluster],
      );
      const observed = new Array<ObservedExecution>(rows.length);
      for (let i = 0; i < rows.length; i += 1) {
        const row = rows[i] as (typeof rows)[number];
        observed[i] = {
          id: row.id,
          jobId: row.job_id,
          status: row.status as ObservedExecution['status'],
          flinkJobId: row.flink_job_id as string,
          flinkState: row.flink_state,
        };
      }
      return observed;
    });
  }

  recordFlinkStates(changes: readonly FlinkStateChange[]): Promise<void> {
    if (changes.length === 0) return Promise.resolve();
    return guarded(async () => {
      // One statement whatever the count: three parallel arrays, unnested into rows. A row
      // that already says so is left alone (its updated_at too).
      await this.db.raw(
        `UPDATE ${TABLE} e
            SET flink_state = v.state,
                error_message = CASE WHEN v.clear THEN NULL ELSE e.error_message END,
                updated_at = now()
           FROM (SELECT unnest(?::uuid[]) AS id, unnest(?::text[]) AS state, unnest(?::boolean[]) AS clear) v
          WHERE e.id = v.id AND e.status IN ('RUNNING', 'STOPPING')
            AND (e.flink_state IS DISTINCT FROM v.state OR (v.clear AND e.error_message IS NOT NULL))`,
        [changes.map((c) => c.id), changes.map((c) => c.flinkState), changes.map((c) => c.clearError)],
      );
    });
  }

  markUnreachable(cluster: string): Promise<number> {
    return guarded(async () => {
      const result = await this.db.raw<{ rowCount: number | null }>(
        `UPDATE ${TABLE} SET flink_state = 'UNREACHABLE', updated_at = now()
          WHERE cluster = ? AND status = 'RUNNING' AND flink_state IS DISTINCT FROM 'UNREACHABLE'`,
        [cluster],
      );
      return result.rowCount ?? 0;
    });
  }

  statusesOf(ids: readonly string[]): Promise<Pick<Execution, 'id' | 'jobId' | 'status'>[]> {
    // What is not a UUID names no execution (and would fail the cast).
    const uuids = ids.filter((id) => UUID.test(id));
    if (uuids.length === 0) return Promise.resolve([]);
    return guarded(async () => {
      const { rows } = await this.db.raw<{ rows: Pick<ExecutionRow, 'id' | 'job_id' | 'status'>[] }>(
        `SELECT id, job_id, status FROM ${TABLE} WHERE id = ANY(?::uuid[])`,
        [uuids],
      );
      return rows.map((r) => ({ id: r.id, jobId: r.job_id, status: r.status as ExecutionStatus }));
    });
  }
}
