import type { Savepoint, SavepointKind } from './savepoint';
import type { PageRequest } from '../jobs/job-repository';

export interface NewSavepoint {
  jobId: string;
  executionId: string;
  cluster: string;
  kind: SavepointKind;
  /** The Flink operation's id; null: the record's own id, as 32 hex digits. */
  triggerId: string | null;
}

/** Why a disposal was refused; `requested` carries the row as it now is. */
export type DisposalOutcome =
  | { kind: 'requested'; savepoint: Savepoint }
  | { kind: 'not_found' }
  | { kind: 'not_completed'; savepoint: Savepoint }
  | { kind: 'newest'; savepoint: Savepoint }
  | { kind: 'in_use'; savepoint: Savepoint; executionId: string };

export interface SavepointRepository {
  /**
   * Records a savepoint being taken, IN_PROGRESS. Idempotent per (execution, trigger id):
   * a retried request answers the row the first one made.
   */
  begin(savepoint: NewSavepoint): Promise<Savepoint>;
  /**
   * The savepoint an execution's stop produced at `location`, relabelled `kind` (an upgrade's
   * stop is the upgrade's savepoint). Null when there is no such record.
   */
  adopt(executionId: string, location: string, kind: SavepointKind): Promise<Savepoint | null>;
  /** The outcome Flink reported, written only while IN_PROGRESS. */
  complete(id: string, location: string, at: Date): Promise<Savepoint | null>;
  fail(id: string, reason: string): Promise<Savepoint | null>;
  get(id: string): Promise<Savepoint | null>;
  /** Newest first. */
  listByJob(jobId: string, page: PageRequest): Promise<Savepoint[]>;
  /** The job's newest restorable savepoint (completed, not disposed nor being disposed). */
  latestRestorable(jobId: string): Promise<Savepoint | null>;
  /** The savepoints the given executions produced, by execution id. */
  producedBy(executionIds: readonly string[]): Promise<Map<string, string[]>>;
  /**
   * Marks a disposal as asked for, in one statement with its checks: only a COMPLETED
   * savepoint of the job, never the job's newest restorable one, never one an active
   * execution restored from (by id or by path). Asking again for one already asked for
   * answers `requested` again (the worker retries).
   */
  requestDisposal(jobId: string, id: string, at: Date): Promise<DisposalOutcome>;
  /** Flink took the disposal under `triggerId`. */
  recordDisposalTrigger(id: string, triggerId: string | null): Promise<void>;
  /** Flink confirmed it: the files are gone. */
  markDisposed(id: string, at: Date): Promise<Savepoint | null>;
  /** Flink's disposal failed: the reason is kept, the request cleared so that it can be asked for again. */
  recordDisposalFailure(id: string, reason: string): Promise<Savepoint | null>;
  /** Disposals asked for and not confirmed, asked before `requestedBefore`: the sweep's worklist. */
  listPendingDisposals(requestedBefore: Date, limit: number): Promise<Savepoint[]>;
  /** Manual and periodic savepoints still IN_PROGRESS, asked for before `createdBefore`: their message may be lost. */
  listPendingTakes(createdBefore: Date, limit: number): Promise<Savepoint[]>;
  /**
   * The retention chore's pages: ids of the jobs with more than one restorable savepoint (the
   * newest is always kept, so one alone is nothing to dispose of), in id order after `afterJobId`.
   */
  jobsWithRestorable(afterJobId: string | null, limit: number): Promise<string[]>;
  /** The job's restorable savepoints, newest first. */
  listRestorable(jobId: string): Promise<Savepoint[]>;
  /** Savepoint ids and paths active executions restored from: never disposed. */
  inUse(): Promise<Set<string>>;
}
