import type {
  ClusterObservation,
  ClusterObservations,
  DriftedExecution,
  SlotFigures,
  UnmanagedJob,
} from '@flink-orchestrator/domain';
import type { Knex } from 'knex';
import { guarded, isForeignKeyViolation } from './connection-errors';

const TABLE = 'cluster_observations';

/**
 * The slots of executions claimed on the cluster of observation `o` after, or within a
 * settle margin (the one binding, in ms) before, its figures were read: Flink may not count
 * them yet. Shared by admission's read and its one-statement claim, so both count alike.
 */
export const TAKEN_SLOTS = `COALESCE((
    SELECT sum(COALESCE(e.parallelism, o.default_parallelism, 1))
      FROM job_executions e
     WHERE e.cluster = o.cluster
       AND e.status IN ('SUBMITTING', 'RUNNING', 'STOPPING')
       AND e.submitting_at > o.slots_observed_at - ?::float8 * interval '1 millisecond'
  ), 0)::integer`;

/** An unmanaged job as `cluster_observations.unmanaged_jobs` stores it: `startTime` an ISO 8601 string. */
interface UnmanagedJobJson {
  flinkJobId: string;
  name: string;
  state: string;
  startTime: string | null;
}

export interface ClusterObservationRow {
  cluster: string;
  reachable: boolean;
  reachable_since: Date;
  observed_at: Date;
  last_error: string | null;
  running_jobs: number | null;
  task_managers: number | null;
  slots_total: number | null;
  slots_free: number | null;
  default_parallelism: number | null;
  flink_version: string | null;
  slots_observed_at: Date | null;
  unmanaged_jobs: UnmanagedJobJson[];
  drifted_executions: DriftedExecution[];
}

type SlotColumns = Pick<
  ClusterObservationRow,
  'task_managers' | 'slots_total' | 'slots_free' | 'default_parallelism' | 'flink_version' | 'slots_observed_at'
>;

function toSlotFigures(row: SlotColumns): SlotFigures | null {
  if (row.slots_observed_at === null) return null;
  return {
    taskManagers: row.task_managers ?? 0,
    slotsTotal: row.slots_total ?? 0,
    slotsFree: row.slots_free ?? 0,
    defaultParallelism: row.default_parallelism,
    flinkVersion: row.flink_version,
    observedAt: row.slots_observed_at,
  };
}

export function toClusterObservation(row: ClusterObservationRow): ClusterObservation {
  return {
    cluster: row.cluster,
    reachable: row.reachable,
    reachableSince: row.reachable_since,
    observedAt: row.observed_at,
    lastError: row.last_error,
    runningJobs: row.running_jobs,
    slots: toSlotFigures(row),
    unmanagedJobs: row.unmanaged_jobs.map((job): UnmanagedJob => ({
      flinkJobId: job.flinkJobId,
      name: job.name,
      state: job.state,
      startTime: job.startTime === null ? null : new Date(job.startTime),
    })),
    driftedExecutions: row.drifted_executions.map((d): DriftedExecution => ({
      executionId: d.executionId,
      jobId: d.jobId,
      status: d.status,
      flinkJobId: d.flinkJobId,
      flinkState: d.flinkState,
    })),
  };
}

function toColumns(o: ClusterObservation): Record<string, unknown> {
  const unmanaged: UnmanagedJobJson[] = o.unmanagedJobs.map((job) => ({
    flinkJobId: job.flinkJobId,
    name: job.name,
    state: job.state,
    startTime: job.startTime === null ? null : job.startTime.toISOString(),
  }));
  const drifted: DriftedExecution[] = o.driftedExecutions.map((d) => ({
    executionId: d.executionId,
    jobId: d.jobId,
    status: d.status,
    flinkJobId: d.flinkJobId,
    flinkState: d.flinkState,
  }));
  return {
    cluster: o.cluster,
    reachable: o.reachable,
    reachable_since: o.reachableSince,
    observed_at: o.observedAt,
    last_error: o.lastError,
    running_jobs: o.runningJobs,
    task_managers: o.slots?.taskManagers ?? null,
    slots_total: o.slots?.slotsTotal ?? null,
    slots_free: o.slots?.slotsFree ?? null,
    default_parallelism: o.slots?.defaultParallelism ?? null,
    flink_version: o.slots?.flinkVersion ?? null,
    slots_observed_at: o.slots?.observedAt ?? null,
    // Strings: pg would write a JavaScript array as a PostgreSQL array, not as JSON.
    unmanaged_jobs: JSON.stringify(unmanaged),
    drifted_executions: JSON.stringify(drifted),
  };
}

/** One row per cluster in `cluster_observations`, which the observer replaces and the API and admission read. */
export class KnexClusterObservations implements ClusterObservations {
  constructor(private readonly db: Knex) {}

  save(observation: ClusterObservation): Promise<void> {
    return guarded(async () => {
      try {
        await this.db(TABLE).insert(toColumns(observation)).onConflict('cluster').merge();
      } catch (error) {
        // The cluster was deleted while it was being observed: nothing left to record.
        if (isForeignKeyViolation(error)) return;
        throw error;
      }
    });
  }

  get(cluster: string): Promise<ClusterObservation | null> {
    return guarded(async () => {
      const row = await this.db<ClusterObservationRow>(TABLE).where({ cluster }).first();
      return row ? toClusterObservation(row) : null;
    });
  }

  freeSlots(cluster: string, settleMs: number): Promise<{ free: number; figures: SlotFigures } | null> {
    return guarded(async () => {
      // One statement: the observed figure less the slots of executions claimed for
      // submission after, or within settleMs before, it was read (Flink may not count
      // those yet; the margin errs on the side of waiting). Counting from the claim, not
      // the run request, closes most of the window in which two submissions would both
      // see the same free slots. Served by job_executions_observed_idx.
      const { rows } = await this.db.raw<{ rows: (SlotColumns & { taken: number })[] }>(
        `SELECT o.task_managers, o.slots_total, o.slots_free, o.default_parallelism, o.flink_version,
                o.slots_observed_at, ${TAKEN_SLOTS} AS taken
           FROM ${TABLE} o
          WHERE o.cluster = ? AND o.slots_observed_at IS NOT NULL`,
        [settleMs, cluster],
      );
      const row = rows[0];
      if (!row) return null;
      const figures = toSlotFigures(row) as SlotFigures;
      return { free: Math.max(0, figures.slotsFree - row.taken), figures };
    });
  }
}
