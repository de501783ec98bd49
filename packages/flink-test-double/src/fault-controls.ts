/**
 * The fault-injection half of the double's public API: outages, latency, hooks that hold a
 * request at a chosen point, failing savepoints, and jobs that end or vanish on command.
 * FlinkTestDouble extends this class, so tests call these on the double itself.
 */
import { DEFAULT_JOB_FAILURE, SAVEPOINT_EXPIRED } from './java-errors';
import type { JobManagerState } from './jobmanager-state';

export type OutageMode = 'none' | 'unavailable' | 'refuse';

/** The current faults, read by the server and the resource handlers. */
export interface Faults {
  outage: OutageMode;
  latencyMs: number;
  runHook: ((jobId: string) => Promise<void>) | null;
  requestHook: ((method: string, path: string) => Promise<void> | void) | null;
  runAnswerHook: ((jobId: string) => Promise<void>) | null;
  uploadHook: ((fileName: string) => Promise<void>) | null;
  savepointHook: ((jobId: string, triggerId: string) => Promise<void>) | null;
  savepointFailure: string | null;
}

export class FaultControls {
  protected readonly faults: Faults = {
    outage: 'none',
    latencyMs: 0,
    runHook: null,
    requestHook: null,
    runAnswerHook: null,
    uploadHook: null,
    savepointHook: null,
    savepointFailure: null,
  };

  constructor(protected readonly jobManager: JobManagerState) {}

  setOutage(mode: OutageMode): void {
    this.faults.outage = mode;
  }

  setLatency(ms: number): void {
    this.faults.latencyMs = ms;
  }

  setRunDelayHook(fn: ((jobId: string) => Promise<void>) | null): void {
    this.faults.runHook = fn;
  }

  /**
   * Awaited as each request arrives, before it is routed (so before a run request's jar is
   * looked up); `path` without the /v1 prefix. For counting requests, or holding one kind.
   */
  setRequestHook(fn: ((method: string, path: string) => Promise<void> | void) | null): void {
    this.faults.requestHook = fn;
  }

  /**
   * Awaited once a run request was accepted (the job is registered and has left
   * INITIALIZING), before the answer is written: Flink runs the job, the client has not heard.
   */
  setRunAnswerHook(fn: ((jobId: string) => Promise<void>) | null): void {
    this.faults.runAnswerHook = fn;
  }

  /**
   * Awaited inside POST /jars/upload once the whole file has arrived, before the jar is
   * stored and answered: an upload held mid-flight (the client waits for the answer).
   */
  setUploadHook(fn: ((fileName: string) => Promise<void>) | null): void {
    this.faults.uploadHook = fn;
  }

  /**
   * Awaited when a savepoint operation would complete (after `savepointMs`): while it is
   * pending the operation reads IN_PROGRESS, so a hook that never resolves is a savepoint
   * that never completes.
   */
  setSavepointHook(fn: ((jobId: string, triggerId: string) => Promise<void>) | null): void {
    this.faults.savepointHook = fn;
  }

  /**
   * Savepoint operations completing from now on fail with `cause` (a Java exception line),
   * null: they succeed again. As in Flink, a failed stop-with-savepoint leaves the job
   * RUNNING, and the operation reads COMPLETED with a `failure-cause`.
   */
  failSavepoints(cause: string | null = SAVEPOINT_EXPIRED): void {
    this.faults.savepointFailure = cause;
  }

  finishJob(jobId: string): void {
    this.jobManager.jobs.get(jobId)?.moveTo('FINISHED');
  }

  failJob(jobId: string, cause = DEFAULT_JOB_FAILURE): void {
    this.jobManager.jobs.get(jobId)?.fail(cause);
  }

  /** The job vanishes (GET → 404), as if it expired; its id stays taken, as in Flink's JobResultStore. */
  forgetJob(jobId: string): void {
    this.jobManager.jobs.get(jobId)?.clearTimers();
    this.jobManager.jobs.delete(jobId);
  }

  /** A JobManager restart without HA: jobs forgotten, their ids free again, jars lost unless kept. */
  restart(options: { keepJars?: boolean } = {}): void {
    const jm = this.jobManager;
    jm.clearAllTimers();
    jm.jobs.clear();
    jm.takenIds.clear();
    jm.savepoints.clear();
    if (!options.keepJars) jm.jars.clear();
  }
}
