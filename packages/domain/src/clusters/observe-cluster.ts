import type { ClusterObservation, DriftedExecution, SlotFigures, UnmanagedJob } from './cluster-observation';
import { PermanentFailure, TransientFailure } from '../shared/errors';
import {
  ACTIVE_STATUSES,
  endedStatusFor,
  executionIdFor,
  isTerminal,
  type ExecutionStatus,
} from '../executions/execution';
import type { Clock } from '../shared/clock';
import type { ClusterObservations } from './cluster-observations';
import type { ExecutionRepository, FlinkStateChange, ObservedExecution } from '../executions/execution-repository';
import type { FlinkClusters } from './flink-clusters';
import type { FlinkGateway, FlinkJobOverview } from './flink-gateway';
import type { Logger } from '../shared/logger';
import { failureText } from '../shared/failure-text';

export interface ObserveClusterSettings {
  /**
   * How long a RUNNING execution's job may be missing from Flink (from the overview and
   * from its own status call) before it is LOST: a JobManager failing over with HA
   * answers "not found" for a while.
   */
  lostGraceMs: number;
  /** `GET /overview` (slots) every this many ticks, and in the tick after a job ended. */
  slotsEvery: number;
  /** The observation is written when it changes, and at least this often (its `observedAt`). */
  heartbeatMs: number;
  /** At most this many missing jobs are confirmed one by one per tick; the rest wait for the next. */
  maxConfirmations: number;
}

export const DEFAULT_OBSERVER_SETTINGS: Omit<ObserveClusterSettings, 'lostGraceMs'> = {
  slotsEvery: 5,
  heartbeatMs: 30_000,
  maxConfirmations: 50,
};

export interface ObserveClusterDeps {
  cluster: string;
  executions: ExecutionRepository;
  observations: ClusterObservations;
  clusters: FlinkClusters;
  clock: Clock;
  log: Logger;
  settings: ObserveClusterSettings;
  /** Told of each FAILED or LOST end, to apply the job's restart policy (a sweep catches what it misses). */
  restarts?: { run(executionId: string): Promise<unknown> };
  /**
   * Whether this worker still holds the cluster's observer lease. Asked before every write:
   * a tick that outlasted its lease (Flink slow, Redis away) throws ObserverLeaseLost and
   * writes nothing, so it never overwrites what the new observer recorded meanwhile.
   */
  stillHolds?: () => boolean;
}

/** The tick stopped before a write: the observer lease went to another worker meanwhile. */
export class ObserverLeaseLost extends Error {
  constructor(readonly cluster: string) {
    super(`The observer lease of cluster ${cluster} was lost during the tick; it wrote nothing more.`);
    this.name = 'ObserverLeaseLost';
  }
}

/** What one tick did, for metrics and benchmarks. */
export interface ObservationReport {
  reachable: boolean;
  flinkCalls: number;
  observed: number;
  stateChanges: number;
  ended: number;
  lost: number;
}

/** Flink states in which a job holds no future: its end is only a moment away. */
const ENDING = new Set(['CANCELLING']);

/**
 * Follows every execution of one cluster with one `GET /jobs/overview` per tick, whatever
 * their number: compares Flink's list with the cluster's RUNNING and STOPPING executions
 * and writes only what changed. One worker at a time runs it per cluster (under a lease),
 * and it asks before each write whether it still holds it; all its writes are also
 * compare-and-set, so a write racing a takeover only repeats the new observer's.
 *
 * Ending is its job for RUNNING executions only: a STOPPING one belongs to the stop
 * handler, which records how it stopped (and the savepoint); a SUBMITTING one to the
 * submission. Both still count as owning their Flink job.
 */
export class ObserveCluster {
  private readonly cluster: string;
  private readonly executions: ExecutionRepository;
  private readonly observations: ClusterObservations;
  private readonly clusters: FlinkClusters;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly settings: ObserveClusterSettings;
  private readonly restarts: ObserveClusterDeps['restarts'];
  private readonly stillHolds: () => boolean;

  /** Execution id → when its job was first found missing from Flink. */
  private readonly missingSince = new Map<string, number>();
  /** Flink jobs no active execution owns, classified once: they stay what they are. */
  private readonly strangers = new Map<string, DriftedExecution | 'unmanaged'>();
  private ticks = 0;
  private slotsDue = true;
  private slots: SlotFigures | null = null;
  private defaultParallelism: number | null | undefined;
  private saved: ClusterObservation | null = null;

  constructor(deps: ObserveClusterDeps) {
    ({
      cluster: this.cluster,
      executions: this.executions,
      observations: this.observations,
      clusters: this.clusters,
      clock: this.clock,
      log: this.log,
      settings: this.settings,
      restarts: this.restarts,
    } = deps);
    this.stillHolds = deps.stillHolds ?? (() => true);
  }

  /** Before each write: a tick whose lease moved on stops here. */
  private mustHold(): void {
    if (!this.stillHolds()) throw new ObserverLeaseLost(this.cluster);
  }

  async tick(): Promise<ObservationReport> {
    this.ticks++;
    const report: ObservationReport = {
      reachable: true,
      flinkCalls: 1,
      observed: 0,
      stateChanges: 0,
      ended: 0,
      lost: 0,
    };
    // A cluster deleted from the registry throws PermanentFailure: the caller stops observing it.
    const { flink } = await this.clusters.gatewayFor(this.cluster);
    let jobs: FlinkJobOverview[];
    try {
      jobs = await flink.jobsOverview();
    } catch (error) {
      if (!(error instanceof TransientFailure)) throw error;
      await this.unreachable(failureText(error));
      return { ...report, reachable: false };
    }
    // Flink first, then the record: a job Flink lists was run-requested before the overview
    // was taken, so the read below sees its execution and never mistakes it for a stranger.
    const observed = await this.executions.listObserved(this.cluster);
    report.observed = observed.length;
    const onFlink = new Map(jobs.map((job) => [job.jobId, job]));

    const changes: FlinkStateChange[] = [];
    let confirmations = 0;
    for (const execution of observed) {
      let state = onFlink.get(execution.flinkJobId)?.state ?? null;
      if (state === null) {
        // Only a RUNNING job is confirmed: a submission or a stop follows its own job.
        if (execution.status !== 'RUNNING' || confirmations >= this.settings.maxConfirmations) continue;
        confirmations++;
        report.flinkCalls++;
        const confirmed = await this.confirm(flink, execution);
        if (confirmed === undefined) continue; // the status call failed: unknown, not missing
        state = confirmed;
      }
      if (state === null) {
        if (await this.missing(execution)) report.lost++;
        continue;
      }
      this.missingSince.delete(execution.id);
      const ended = endedStatusFor(state);
      if (ended && execution.status === 'RUNNING') {
        if (ended === 'FAILED') report.flinkCalls++;
        await this.end(flink, execution, ended, state);
        report.ended++;
        continue;
      }
      if (state !== execution.flinkState) {
        const resolved = execution.flinkState === 'UNKNOWN' || execution.flinkState === 'UNREACHABLE';
        changes.push({ id: execution.id, flinkState: state, clearError: resolved });
      }
    }
    this.mustHold();
    await this.executions.recordFlinkStates(changes);
    report.stateChanges = changes.length;
    const observedIds = new Set(observed.map((e) => e.id));
    for (const id of this.missingSince.keys()) if (!observedIds.has(id)) this.missingSince.delete(id);

    const owned = new Set(observed.map((e) => e.flinkJobId));
    const { unmanagedJobs, driftedExecutions } = await this.strangersAmong(jobs, owned);
    if (report.ended > 0) this.slotsDue = true;
    report.flinkCalls += await this.readSlots(flink);
    await this.record({
      reachable: true,
      lastError: null,
      runningJobs: jobs.filter((job) => endedStatusFor(job.state) === null).length,
      unmanagedJobs,
      driftedExecutions,
    });
    return report;
  }

  /** The job's state from its own JobMaster; null: Flink does not know it; undefined: no answer. */
  private async confirm(flink: FlinkGateway, execution: ObservedExecution): Promise<string | null | undefined> {
    try {
      return (await flink.jobStatus(execution.flinkJobId))?.state ?? null;
    } catch (error) {
      if (!(error instanceof TransientFailure)) throw error;
      this.log.debug({ executionId: execution.id, reason: failureText(error) }, 'job status unknown');
      return undefined;
    }
  }

  /** True when the execution was recorded LOST: missing longer than the grace. */
  private async missing(execution: ObservedExecution): Promise<boolean> {
    const now = this.clock.now().getTime();
    const since = this.missingSince.get(execution.id) ?? now;
    this.missingSince.set(execution.id, since);
    if (now - since < this.settings.lostGraceMs) return false;
    this.missingSince.delete(execution.id);
    this.mustHold();
    const lost = await this.executions.transition(
      execution.id,
      'LOST',
      {
        errorMessage: `Flink no longer knows job ${execution.flinkJobId} (JobManager restarted without HA, or the job expired).`,
        finishedAt: this.clock.now(),
        flinkState: null,
      },
      ['RUNNING'],
    );
    if (lost) {
      this.log.warn({ executionId: execution.id, flinkJobId: execution.flinkJobId }, 'execution lost');
      await this.applyRestartPolicy(execution.id);
    }
    return lost !== null;
  }

  private async end(
    flink: FlinkGateway,
    execution: ObservedExecution,
    status: ExecutionStatus,
    flinkState: string,
  ): Promise<void> {
    const errorMessage = status === 'FAILED' ? await this.rootCause(flink, execution.flinkJobId) : null;
    this.mustHold();
    const ended = await this.executions.transition(
      execution.id,
      status,
      { flinkState, finishedAt: this.clock.now(), errorMessage },
      ['RUNNING'],
    );
    if (!ended) return;
    this.log.info({ executionId: execution.id, jobId: execution.jobId, status }, 'execution ended');
    if (status === 'FAILED') await this.applyRestartPolicy(execution.id);
  }

  /** Never fails the tick: a restart not decided now is decided by the sweep. */
  private async applyRestartPolicy(executionId: string): Promise<void> {
    this.mustHold();
    try {
      await this.restarts?.run(executionId);
    } catch (error) {
      this.log.warn({ executionId, reason: failureText(error) }, 'restart policy not applied yet; the sweep will');
    }
  }

  private async rootCause(flink: FlinkGateway, flinkJobId: string): Promise<string> {
    try {
      return (await flink.failureCause(flinkJobId)) ?? 'Flink reports the job FAILED without an exception.';
    } catch (error) {
      return `Flink reports the job FAILED; its exceptions could not be read: ${failureText(error)}`;
    }
  }

  /**
   * Jobs Flink runs that no active execution owns: an execution that ended here while its
   * job runs on (drift), or none at all (unmanaged). Each is looked up once.
   */
  private async strangersAmong(
    jobs: FlinkJobOverview[],
    owned: Set<string>,
  ): Promise<Pick<ClusterObservation, 'unmanagedJobs' | 'driftedExecutions'>> {
    const live = jobs.filter(
      (job) => endedStatusFor(job.state) === null && !ENDING.has(job.state) && !owned.has(job.jobId),
    );
    const unknown = live.filter((job) => !this.strangers.has(job.jobId));
    if (unknown.length > 0) {
      const byId = new Map(unknown.map((job) => [executionIdFor(job.jobId), job]));
      const known = await this.executions.statusesOf([...byId.keys()].filter((id): id is string => id !== null));
      const found = new Map(known.map((row) => [row.id, row]));
      for (const [id, job] of byId) {
        const row = id === null ? undefined : found.get(id);
        // An active execution owns it (its run was requested after the list was read): not a stranger.
        if (row && ACTIVE_STATUSES.includes(row.status)) continue;
        this.strangers.set(
          job.jobId,
          row && isTerminal(row.status)
            ? {
                executionId: row.id,
                jobId: row.jobId,
                status: row.status,
                flinkJobId: job.jobId,
                flinkState: job.state,
              }
            : 'unmanaged',
        );
      }
    }
    const liveIds = new Set(live.map((job) => job.jobId));
    for (const jobId of this.strangers.keys()) if (!liveIds.has(jobId)) this.strangers.delete(jobId);

    const unmanagedJobs: UnmanagedJob[] = [];
    const driftedExecutions: DriftedExecution[] = [];
    for (const job of live) {
      const stranger = this.strangers.get(job.jobId);
      if (stranger === 'unmanaged') {
        unmanagedJobs.push({
          flinkJobId: job.jobId,
          name: job.name,
          state: job.state,
          startTime: job.startTime === null ? null : new Date(job.startTime),
        });
      } else if (stranger) {
        driftedExecutions.push({ ...stranger, flinkState: job.state });
      }
    }
    return { unmanagedJobs, driftedExecutions };
  }

  /**
   * Reads the slot figures when due; answers how many Flink calls that took. The default
   * parallelism (`GET /jobmanager/config`) and the slots (`GET /overview`) are read each on
   * its own: a proxy that lets only some routes through loses only what it refuses.
   */
  private async readSlots(flink: FlinkGateway): Promise<number> {
    if (!this.slotsDue && this.ticks % this.settings.slotsEvery !== 0) return 0;
    let calls = 1;
    if (this.defaultParallelism === undefined) {
      calls++;
      this.defaultParallelism = await this.readOrKeep('JobManager configuration', () => flink.defaultParallelism());
    }
    const overview = await this.readOrKeep('cluster overview', () => flink.clusterOverview());
    if (overview === undefined) return calls; // the slots keep their last figures until the next try
    this.slots = {
      taskManagers: overview.taskManagers,
      slotsTotal: overview.slotsTotal,
      slotsFree: overview.slotsFree,
      // Not read (yet): the last figure, else none set (Flink's own default, 1).
      defaultParallelism: this.defaultParallelism ?? this.slots?.defaultParallelism ?? null,
      flinkVersion: overview.flinkVersion,
      observedAt: this.clock.now(),
    };
    this.slotsDue = false;
    return calls;
  }

  /** A slot read Flink refused or did not answer: undefined, tried again at the next read. */
  private async readOrKeep<T>(what: string, read: () => Promise<T>): Promise<T | undefined> {
    try {
      return await read();
    } catch (error) {
      if (!(error instanceof TransientFailure) && !(error instanceof PermanentFailure)) throw error;
      // The jobs were read; this figure alone waits for the next try.
      this.log.debug({ cluster: this.cluster, reason: failureText(error) }, `${what} not read`);
      return undefined;
    }
  }

  private async unreachable(reason: string): Promise<void> {
    // Every RUNNING execution of the cluster says Flink cannot be reached, each once: the
    // statement skips those that say so already, and catches one that became RUNNING again
    // during the outage (a stop that failed).
    this.mustHold();
    const marked = await this.executions.markUnreachable(this.cluster);
    if (marked > 0) this.log.debug({ cluster: this.cluster, marked, reason }, 'cluster unreachable');
    this.slotsDue = true;
    this.defaultParallelism = undefined;
    await this.record({
      reachable: false,
      lastError: reason,
      runningJobs: null,
      unmanagedJobs: this.saved?.unmanagedJobs ?? [],
      driftedExecutions: this.saved?.driftedExecutions ?? [],
    });
  }

  /** Saves the observation when it changed, or when the last one is older than the heartbeat. */
  private async record(
    facts: Pick<ClusterObservation, 'reachable' | 'lastError' | 'runningJobs' | 'unmanagedJobs' | 'driftedExecutions'>,
  ): Promise<void> {
    const now = this.clock.now();
    const previous = this.saved;
    const reachableSince = previous && previous.reachable === facts.reachable ? previous.reachableSince : now;
    const next: ClusterObservation = {
      cluster: this.cluster,
      ...facts,
      slots: this.slots,
      reachableSince,
      observedAt: now,
    };
    const stale = !previous || now.getTime() - previous.observedAt.getTime() >= this.settings.heartbeatMs;
    if (!stale && sameFacts(previous, next)) return;
    this.mustHold();
    await this.observations.save(next);
    this.saved = next;
  }
}

function sameFacts(a: ClusterObservation, b: ClusterObservation): boolean {
  const { observedAt: _a, ...left } = a;
  const { observedAt: _b, ...right } = b;
  return JSON.stringify(left) === JSON.stringify(right);
}
