import { IllegalTransition } from '../shared/errors';
import type { AdmissionMode, ProgramConfig } from '../jobs/job';
import type { RestartDecision } from './restart-policy';
import type { PreflightCheck } from '../schedules/schedule';

export const EXECUTION_STATUSES = [
  'QUEUED',
  'SUBMITTING',
  'RUNNING',
  'STOPPING',
  'FINISHED',
  'FAILED',
  'CANCELLED',
  'STOPPED',
  'LOST',
  'SKIPPED',
  'MISSED',
] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

export const ACTIVE_STATUSES: readonly ExecutionStatus[] = ['QUEUED', 'SUBMITTING', 'RUNNING', 'STOPPING'];

export const EXECUTION_TRIGGERS = ['manual', 'schedule', 'restart', 'upgrade'] as const;
/**
 * `restart`: created by the job's restart policy to replace a failed execution (`restartOf`);
 * `upgrade`: started by an upgrade (`upgradeId`) from the savepoint the old execution stopped with.
 */
export type ExecutionTrigger = (typeof EXECUTION_TRIGGERS)[number];

/**
 * The execution state machine. QUEUED -> SUBMITTING (download, upload, run) -> RUNNING
 * -> a terminal state; STOPPING while a stop is in flight. SKIPPED and MISSED are born
 * terminal: they record schedule ticks that did not run.
 */
const TRANSITIONS: Readonly<Record<ExecutionStatus, readonly ExecutionStatus[]>> = {
  QUEUED: ['SUBMITTING', 'CANCELLED', 'FAILED'],
  // CANCELLED: a stop won before the run request was sent, so Flink never saw the job.
  SUBMITTING: ['RUNNING', 'STOPPING', 'CANCELLED', 'FAILED', 'LOST'],
  RUNNING: ['STOPPING', 'FINISHED', 'FAILED', 'CANCELLED', 'LOST'],
  // RUNNING again: a stop-with-savepoint that failed leaves the Flink job running.
  STOPPING: ['STOPPED', 'CANCELLED', 'FINISHED', 'FAILED', 'LOST', 'RUNNING'],
  FINISHED: [],
  FAILED: [],
  CANCELLED: [],
  STOPPED: [],
  LOST: [],
  SKIPPED: [],
  MISSED: [],
};

export function canTransition(from: ExecutionStatus, to: ExecutionStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export function assertTransition(from: ExecutionStatus, to: ExecutionStatus): void {
  if (!canTransition(from, to)) throw new IllegalTransition(from, to);
}

/** The statuses from which `to` may be reached: the guard for a conditional update. */
export function statusesLeadingTo(to: ExecutionStatus): ExecutionStatus[] {
  return EXECUTION_STATUSES.filter((from) => canTransition(from, to));
}

export function isTerminal(status: ExecutionStatus): boolean {
  return TRANSITIONS[status].length === 0;
}

/** Flink's globally terminal job states, and the status each ends an execution in. */
const FLINK_ENDED: Readonly<Record<string, ExecutionStatus>> = {
  FINISHED: 'FINISHED',
  FAILED: 'FAILED',
  CANCELED: 'CANCELLED',
};

/** The status an execution ends in when its Flink job is in `flinkState`; null while the job is not over. */
export function endedStatusFor(flinkState: string): ExecutionStatus | null {
  return FLINK_ENDED[flinkState] ?? null;
}

export interface StopRequest {
  savepoint: boolean;
  drain: boolean;
  requestedAt: Date;
}

/** How a stop is asked for: a savepoint first (optionally draining), or a plain cancel. */
export interface StopOptions {
  savepoint?: boolean;
  drain?: boolean;
}

/**
 * The job definition an execution runs, copied from the job when the execution is
 * created: later edits of the job do not change it. Parallelism and the savepoint are
 * the execution's own fields (a start may override them).
 */
export interface ExecutionDefinition {
  /** As the job had it: an absolute URL or a bare file name on the data-processor. */
  jarUrl: string;
  entryClass: string | null;
  /** The program arguments are `programArgsFrom(config)`. */
  config: ProgramConfig;
  /** The job's `version` this was copied from. */
  jobVersion: number;
}

/** Why a QUEUED execution has not gone to Flink yet, with the figures that decided it. */
export interface AdmissionWait {
  waitingFor: 'slots';
  slotsNeeded: number;
  slotsFree: number;
  /** The first time it was refused; ADMISSION_TIMEOUT counts from here. */
  since: Date;
  /** How many times admission was asked for so far. */
  checks: number;
}

export interface Execution {
  id: string;
  jobId: string;
  /** The Flink cluster it runs on, copied from the job when it was created. */
  cluster: string;
  trigger: ExecutionTrigger;
  status: ExecutionStatus;
  /** Flink's own state name (RESTARTING, FAILING, ...) as last observed. */
  flinkState: string | null;
  flinkJobId: string | null;
  flinkJarId: string | null;
  jarSha256: string | null;
  /**
   * What it runs. Null on executions that never run (SKIPPED, MISSED) and on ones created
   * before definitions were recorded, until a worker submits them.
   */
  definition: ExecutionDefinition | null;
  parallelism: number | null;
  /** Savepoint (or retained checkpoint) this execution was restored from. */
  savepointPath: string | null;
  /** The savepoint record it restored from, when it restored from one (by id or `latest-savepoint`). */
  savepointId: string | null;
  allowNonRestoredState: boolean;
  /** Copied from the job with its definition. */
  admission: AdmissionMode;
  /** Set while a QUEUED execution waits for slots; cleared when it is admitted. */
  waiting: AdmissionWait | null;
  /** Savepoint produced when a stop-with-savepoint ended this execution. */
  savepointLocation: string | null;
  stopRequest: StopRequest | null;
  errorMessage: string | null;
  attempt: number;
  scheduledFor: Date | null;
  /** A restart: the failed execution it replaces. */
  restartOf: string | null;
  /** Started by this upgrade. */
  upgradeId: string | null;
  /** A restart's backoff: it is not submitted before this. */
  notBefore: Date | null;
  /** A schedule tick's execution: the check run before the tick (a failed one is kept here). */
  preflight: PreflightCheck | null;
  /** On a FAILED or LOST execution whose job restarts on failure: what was decided. */
  restartDecision: RestartDecision | null;
  createdAt: Date;
  submittingAt: Date | null;
  /** Set just before the run request goes to Flink: from then on Flink may know the job. */
  runRequestedAt: Date | null;
  submittedAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  updatedAt: Date;
}

/**
 * The Flink JobID of an execution: the execution's UUID as 32 hex digits. Flink refuses
 * a second submission with the same JobID, which makes submission idempotent across
 * worker crashes and retries.
 */
export function flinkJobIdFor(executionId: string): string {
  const hex = executionId.replace(/-/g, '').toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(hex)) throw new Error(`Execution id ${executionId} is not a UUID.`);
  return hex;
}

/** The execution a Flink JobID stands for (the inverse of flinkJobIdFor); null when it is not 32 hex digits. */
export function executionIdFor(flinkJobId: string): string | null {
  const hex = flinkJobId.toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(hex)) return null;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
