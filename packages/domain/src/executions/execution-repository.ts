import type { Execution, ExecutionDefinition, ExecutionStatus, ExecutionTrigger, StopRequest } from './execution';
import type { RestartDecision } from './restart-policy';
import type { PreflightCheck } from '../schedules/schedule';
import type { PageRequest } from '../jobs/job-repository';

/**
 * A new execution. The repository copies the job's definition (JAR URL, entry class,
 * config, version) onto a QUEUED one from the job row in the statement that inserts it,
 * so the snapshot is one version of the job, never a mix of two.
 */
export interface NewExecution {
  jobId: string;
  trigger: ExecutionTrigger;
  status: 'QUEUED' | 'SKIPPED' | 'MISSED';
  /** Null: the job's, read with the rest of the definition. */
  parallelism: number | null;
  savepointPath: string | null;
  /** The savepoint record `savepointPath` is the location of, if any. */
  savepointId?: string | null;
  allowNonRestoredState: boolean;
  scheduledFor: Date | null;
  errorMessage?: string | null;
  /** A restart: the failed execution it replaces (one restart per failure, enforced by a unique index). */
  restartOf?: string | null;
  notBefore?: Date | null;
  /** Started by this upgrade (one execution per upgrade, enforced by a unique index). */
  upgradeId?: string | null;
  /** A tick's execution: the check run before the tick. */
  preflight?: PreflightCheck | null;
}

/** Fields a transition may set beside the status. */
export type ExecutionPatch = Partial<
  Pick<
    Execution,
    | 'flinkState'
    | 'flinkJobId'
    | 'flinkJarId'
    | 'jarSha256'
    | 'savepointLocation'
    | 'errorMessage'
    | 'attempt'
    | 'submittingAt'
    | 'runRequestedAt'
    | 'submittedAt'
    | 'startedAt'
    | 'finishedAt'
    | 'waiting'
  >
> & {
  stopRequest?: StopRequest | null;
  /** Only for an execution created without one (before definitions were recorded). */
  definition?: ExecutionDefinition;
};

/** Filters of the history across jobs; `since` inclusive, `until` exclusive, on createdAt. */
export interface ExecutionFilter {
  status?: ExecutionStatus;
  trigger?: ExecutionTrigger;
  jobId?: string;
  since?: Date;
  until?: Date;
}

/** A schedule tick that did not run, as its row records it. */
export interface NotRunTick {
  scheduledFor: Date;
  status: 'MISSED' | 'SKIPPED';
  errorMessage: string;
}

/** An execution whose job Flink may be running: what the observer compares with Flink's overview. */
export interface ObservedExecution {
  id: string;
  jobId: string;
  status: 'SUBMITTING' | 'RUNNING' | 'STOPPING';
  flinkJobId: string;
  flinkState: string | null;
}

/** A new Flink state for a RUNNING or STOPPING execution; `clearError` drops what an unknown state said. */
export interface FlinkStateChange {
  id: string;
  flinkState: string;
  clearError: boolean;
}

export type InsertOutcome =
  | { kind: 'created'; execution: Execution }
  | { kind: 'active'; active: Execution }
  | { kind: 'duplicate_tick' }
  /** The failure named in `restartOf` has its restart already. */
  | { kind: 'duplicate_restart'; restart: Execution | null }
  /** The upgrade named in `upgradeId` has started its execution already. */
  | { kind: 'duplicate_upgrade'; execution: Execution | null }
  | { kind: 'job_missing' }
  /** Only with `requireEnabled`: the job is disabled. */
  | { kind: 'job_disabled' }
  /**
   * The savepoint it would restore from (by id or path) is being disposed of, or was: checked
   * under a lock the disposal takes too, so a start and a disposal never both succeed.
   */
  | { kind: 'savepoint_disposed' };

export interface InsertOptions {
  /** Refuse (`active`) while the job has an active execution. */
  exclusive: boolean;
  /** Refuse (`job_disabled`) when the job is disabled, checked under the same lock. */
  requireEnabled?: boolean;
}

/** A FAILED or LOST execution whose job's policy restarts it and that has no decision yet. */
export interface UndecidedFailure {
  id: string;
  jobId: string;
}

export interface ExecutionRepository {
  /**
   * Inserts atomically with the check that the job exists and, when `exclusive`, has no
   * active execution (two API replicas racing get one `created`, one `active`). A second
   * execution for the same (job, scheduledFor) gives `duplicate_tick`.
   */
  insert(execution: NewExecution, options: InsertOptions): Promise<InsertOutcome>;
  /**
   * A schedule tick in one transaction: records it on the job (lastRunAt) and inserts its
   * execution, QUEUED, or SKIPPED (naming the active one) when `skipIfActive` and one is active.
   */
  insertTick(tick: NewExecution & { scheduledFor: Date }, options: { skipIfActive: boolean }): Promise<InsertOutcome>;
  /**
   * The same, only while the job is still `expect.version` and no tick fell due between
   * the schedule's last one (or the job's last change) and this one: that is, the schedule's
   * last tick or change is at or after `expect.previousTick`. Checked under the job row lock;
   * `stale` (nothing written) when either fails or the job is gone.
   */
  insertExpectedTick(
    tick: NewExecution & { scheduledFor: Date },
    options: { skipIfActive: boolean; expect: { version: number; previousTick: Date | null } },
  ): Promise<InsertOutcome | { kind: 'stale' }>;
  /**
   * Records ticks that did not run in one statement (an outage may leave a thousand), and
   * advances the job's lastRunAt to the newest of them. A tick that has a row keeps it.
   * Answers the ticks inserted.
   */
  insertNotRun(jobId: string, parallelism: number | null, ticks: NotRunTick[]): Promise<NotRunTick[]>;
  /** The execution of one schedule tick, if it has one. */
  findTick(jobId: string, scheduledFor: Date): Promise<Execution | null>;
  get(id: string): Promise<Execution | null>;
  /** Newest first, across jobs. */
  list(filter: ExecutionFilter, page: PageRequest): Promise<Execution[]>;
  /** Newest first. */
  listByJob(jobId: string, page: PageRequest, status?: ExecutionStatus): Promise<Execution[]>;
  findActive(jobId: string): Promise<Execution[]>;
  /**
   * Moves to `to` only if the row is still in one of the statuses that may lead there
   * (or in `onlyFrom`, a subset of them): a compare-and-set. Null when another process
   * moved it first. `guard.stopRequestedAt`: only while that stop request is the current one.
   */
  transition(
    id: string,
    to: ExecutionStatus,
    patch?: ExecutionPatch,
    onlyFrom?: readonly ExecutionStatus[],
    guard?: { stopRequestedAt: Date },
  ): Promise<Execution | null>;
  /**
   * Moves a QUEUED execution to SUBMITTING, with `patch`, when nothing makes it wait: its
   * restart backoff is over, and its admission is `ignore`, or its cluster has no slot
   * figures, or the free ones (as `ClusterObservations.freeSlots` counts them, `settleMs`
   * the same) cover its parallelism (or the cluster's default, or 1). One statement for the
   * common case; null otherwise (not QUEUED, or it must wait), and the caller decides.
   */
  claimAdmitted(id: string, patch: ExecutionPatch, settleMs: number): Promise<Execution | null>;
  /** Updates fields while the status is one of `whileIn`. */
  patch(id: string, whileIn: readonly ExecutionStatus[], patch: ExecutionPatch): Promise<Execution | null>;
  /**
   * A new QUEUED execution's `execution.queued` event is held (out of the feed and the relay)
   * until its submit message is known to be on the queue; this releases it. Idempotent.
   */
  confirmQueued(ids: readonly string[]): Promise<void>;
  /**
   * Removes an execution nothing will ever run (its enqueue failed), with its held event and
   * the audit row of the request that made it. False when it went ahead meanwhile (its event
   * was released: a worker or the reconciler has its message), and nothing is removed.
   */
  discard(id: string): Promise<boolean>;
  /** Active executions last touched before `updatedBefore`: the reconciler's worklist. */
  listActive(updatedBefore?: Date): Promise<Execution[]>;
  /** The savepoint of the job's execution that ended last with one (ties: the greatest id). */
  latestSavepoint(jobId: string): Promise<string | null>;
  /**
   * Deletes at most `limit` executions in one of `statuses` (terminal ones) that ended
   * before `endedBefore`, never the one holding the job's latest savepoint. Answers how
   * many went.
   */
  deleteEnded(statuses: readonly ExecutionStatus[], endedBefore: Date, limit: number): Promise<number>;
  /**
   * Restarts of the job created at or after `since`: what a restart policy's window counts.
   * The restart of `failureId`, if an earlier try made it already, is not counted.
   */
  countRestarts(jobId: string, since: Date, failureId: string): Promise<number>;
  /** Records what was decided on a failure, unless something was already: answers whether this one was. */
  recordRestartDecision(id: string, decision: RestartDecision): Promise<boolean>;
  /**
   * Failures that ended after `endedAfter`, ran on Flink, have no decision, and whose job's
   * restart policy covers their status: the crash-safety sweep's worklist.
   */
  listUndecidedFailures(endedAfter: Date, limit: number): Promise<UndecidedFailure[]>;
  countByStatus(): Promise<Partial<Record<ExecutionStatus, number>>>;
  /**
   * The cluster's executions Flink may be running, in one statement: RUNNING ones, and
   * SUBMITTING or STOPPING ones whose run was requested. Narrow rows: the observer reads
   * them every poll.
   */
  listObserved(cluster: string): Promise<ObservedExecution[]>;
  /** Writes many Flink states in one statement, each only while the execution is RUNNING or STOPPING. */
  recordFlinkStates(changes: readonly FlinkStateChange[]): Promise<void>;
  /** Marks the cluster's RUNNING executions UNREACHABLE in one statement; answers how many. */
  markUnreachable(cluster: string): Promise<number>;
  /** The executions among `ids` that exist, with their status: tells drift from unmanaged jobs. */
  statusesOf(ids: readonly string[]): Promise<Pick<Execution, 'id' | 'jobId' | 'status'>[]>;
}
