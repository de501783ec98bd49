/** What the orchestrator needs from a Flink session cluster. Adapters throw TransientFailure or PermanentFailure. */

export interface RunRequest {
  jarId: string;
  jobId: string;
  entryClass: string | null;
  programArgs: string[];
  parallelism: number | null;
  savepointPath: string | null;
  allowNonRestoredState: boolean;
}

/** `duplicate`: Flink already has (or had) a job with this id. */
export type RunOutcome = 'submitted' | 'duplicate';

export interface FlinkJobState {
  /** Flink's JobStatus name: RUNNING, FINISHED, FAILED, CANCELED, RESTARTING, ... */
  state: string;
}

/** One job as `GET /jobs/overview` lists it. */
export interface FlinkJobOverview {
  /** 32 hex digits. */
  jobId: string;
  name: string;
  /** Flink's JobStatus name. */
  state: string;
  /** Epoch milliseconds; null when Flink gives none (-1). */
  startTime: number | null;
  /**
   * The job RUNNING and every task of it running (or finished): what a savepoint needs. A
   * job reads RUNNING before its tasks do. Null when Flink gives no task counts.
   */
  tasksRunning: boolean | null;
}

/** The cluster as `GET /overview` describes it. */
export interface FlinkClusterOverview {
  flinkVersion: string | null;
  taskManagers: number;
  slotsTotal: number;
  /** Flink's `slots-available`: free slots of TaskManagers that are not blocked. */
  slotsFree: number;
  /** Jobs not yet globally terminal. */
  runningJobs: number;
}

/** What Flink would run: `POST /jars/:jarid/plan`'s dataflow plan, summarised. */
export interface JobPlan {
  /** Flink's name for the job (the program's `execute(name)`). */
  name: string;
  operators: { id: string; description: string; parallelism: number }[];
  /** The largest parallelism any operator of the plan may take; null when Flink says none. */
  maxParallelism: number | null;
}

/** The program as `plan` and `run` take it. */
export interface PlanRequest {
  jarId: string;
  entryClass: string | null;
  programArgs: string[];
  parallelism: number | null;
}

export type CancelOutcome = 'accepted' | 'not_found' | 'already_terminal';

/** `unknown`: Flink no longer knows the operation (its result expired, or its JobManager restarted). */
export type SavepointStatus =
  | { status: 'IN_PROGRESS' }
  | { status: 'COMPLETED'; location: string }
  | { status: 'FAILED'; reason: string }
  | { status: 'unknown' };

/** `absent`: Flink found no files at the path: nothing left to dispose of (a retry after one that did). */
export type DisposalStatus =
  | { status: 'IN_PROGRESS' }
  | { status: 'COMPLETED' }
  | { status: 'FAILED'; reason: string }
  | { status: 'absent' }
  | { status: 'unknown' };

/** A savepoint Flink lists among a job's checkpoint statistics. */
export interface FlinkSavepointRecord {
  location: string;
  triggeredAt: Date;
}

export interface LocalJar {
  path: string;
  fileName: string;
  size: number;
  sha256: string;
}

export interface FlinkGateway {
  listJarIds(): Promise<Set<string>>;
  uploadJar(jar: LocalJar): Promise<string>;
  deleteJar(jarId: string): Promise<void>;
  runJar(request: RunRequest): Promise<RunOutcome>;
  /**
   * Runs the program's `main()` on the JobManager to build its plan, without submitting a
   * job. Throws PermanentFailure with Flink's reason when the program cannot be planned
   * (entry class not found, `main()` threw), TransientFailure when Flink cannot be reached.
   */
  planJar(request: PlanRequest): Promise<JobPlan>;
  /** Null when Flink does not know the job (never submitted, expired, or forgotten). */
  getJob(jobId: string): Promise<FlinkJobState | null>;
  /**
   * Every job the JobManager knows, with its state: one call for the whole cluster. Flink
   * leaves out a job whose JobMaster did not answer in time, so a missing job is confirmed
   * with `jobStatus` before anything is decided.
   */
  jobsOverview(): Promise<FlinkJobOverview[]>;
  /** `GET /jobs/:jid/status`, which asks only that job's JobMaster. Null when Flink does not know the job. */
  jobStatus(jobId: string): Promise<FlinkJobState | null>;
  /** `GET /overview`: TaskManagers, slots, version. */
  clusterOverview(): Promise<FlinkClusterOverview>;
  /** `parallelism.default` from `GET /jobmanager/config`; null when the cluster does not set it (Flink's default is 1). */
  defaultParallelism(): Promise<number | null>;
  /** The root cause of a failed job, one line. */
  failureCause(jobId: string): Promise<string | null>;
  /**
   * The external path of the job's latest completed checkpoint (`GET /jobs/:jid/checkpoints`),
   * null when it has none or Flink does not know the job. Needs retained checkpoints to
   * outlive a failure (see docs/restarts.md).
   */
  latestCheckpoint(jobId: string): Promise<string | null>;
  /**
   * The job's latest completed savepoint from the same statistics (`latest.savepoint`): what
   * tells whether an operation Flink forgot did complete. Null when none, or the job is unknown.
   */
  latestSavepoint(jobId: string): Promise<FlinkSavepointRecord | null>;
  cancel(jobId: string): Promise<CancelOutcome>;
  stopWithSavepoint(
    jobId: string,
    options: { targetDirectory: string | null; drain: boolean; triggerId: string },
  ): Promise<string>;
  /** `POST /jobs/:jid/savepoints`: a savepoint of a job that keeps running, under our trigger id (idempotent). */
  triggerSavepoint(jobId: string, options: { targetDirectory: string | null; triggerId: string }): Promise<string>;
  /** The operation of a stop-with-savepoint or of a savepoint: both are read at the same place. */
  savepointStatus(jobId: string, triggerId: string): Promise<SavepointStatus>;
  /** `POST /savepoint-disposal`: Flink deletes the savepoint's files; answers Flink's trigger id. */
  disposeSavepoint(location: string): Promise<string>;
  /** `GET /savepoint-disposal/:triggerid`; `unknown` when Flink no longer knows the operation (expired, restarted). */
  disposalStatus(triggerId: string): Promise<DisposalStatus>;
}
