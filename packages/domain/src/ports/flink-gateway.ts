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

export type CancelOutcome = 'accepted' | 'not_found' | 'already_terminal';

export type SavepointStatus =
  { status: 'IN_PROGRESS' } | { status: 'COMPLETED'; location: string } | { status: 'FAILED'; reason: string };

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
  /** Null when Flink does not know the job (never submitted, expired, or forgotten). */
  getJob(jobId: string): Promise<FlinkJobState | null>;
  /** The root cause of a failed job, one line. */
  failureCause(jobId: string): Promise<string | null>;
  cancel(jobId: string): Promise<CancelOutcome>;
  stopWithSavepoint(
    jobId: string,
    options: { targetDirectory: string | null; drain: boolean; triggerId: string },
  ): Promise<string>;
  savepointStatus(jobId: string, triggerId: string): Promise<SavepointStatus>;
}
