/**
 * The fault-injection half of the double's public API: outages, latency, hooks that hold a
 * request at a chosen point, failing savepoints, the cluster's slots, jobs put on the
 * cluster directly, and jobs that change state, end or vanish on command.
 * FlinkTestDouble extends this class, so tests call these on the double itself.
 */
import { DEFAULT_JOB_FAILURE, SAVEPOINT_EXPIRED } from './java-errors';
import type { JobManagerState } from './jobmanager-state';
import { HEX32 } from './request-bodies';
import { JOB_STATUSES, SimulatedJob, TERMINAL_STATES } from './simulated-job';

export type OutageMode = 'none' | 'unavailable' | 'refuse';

/** The current faults, read by the server and the resource handlers. */
export interface Faults {
  outage: OutageMode;
  /** Requests it matches answer 503 as in an outage; the others are served. */
  unavailableWhen: ((method: string, path: string) => boolean) | null;
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
    unavailableWhen: null,
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

  /**
   * Requests `match` picks (`path` without the /v1 prefix) answer 503 with the leader-election
   * message, as in setOutage('unavailable'), while the rest are served: one endpoint failing
   * transiently, the others (the observer's polls) unaffected. null: all are served again.
   */
  setUnavailableWhen(match: ((method: string, path: string) => boolean) | null): void {
    this.faults.unavailableWhen = match;
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

  /** The cluster's total slots from now on (`/overview` `slots-total`, `taskmanager.numberOfTaskSlots`). */
  setSlots(total: number): void {
    if (!Number.isSafeInteger(total) || total < 0) throw new RangeError(`slots must be an integer ≥ 0, not ${total}`);
    this.jobManager.cluster.slots = total;
  }

  /**
   * A job that is RUNNING at once, as if it had been submitted some other way (by hand, by
   * another tool): it is listed, holds `parallelism` slots (the default parallelism when
   * null), its id is taken and counted in submittedJobIds(), but no run request is logged.
   * It streams until cancelled, stopped or moved on by a control here; it starts no timer,
   * so a benchmark can hold thousands. Throws when the id is not 32 hex digits or is taken.
   */
  addRunningJob(job: { jobId: string; name: string; parallelism?: number | null }): SimulatedJob {
    const jm = this.jobManager;
    if (!HEX32.test(job.jobId)) throw new Error(`"${job.jobId}" is not a JobID (32 hex digits)`);
    const jid = job.jobId.toLowerCase();
    if (jm.takenIds.has(jid)) throw new Error(`job ${jid} has already been submitted`);
    const parallelism = job.parallelism ?? null;
    if (parallelism !== null && (!Number.isSafeInteger(parallelism) || parallelism < 1)) {
      throw new RangeError(`parallelism must be a positive integer, not ${parallelism}`);
    }
    const simulated = new SimulatedJob({
      jid,
      name: job.name,
      entryClass: null,
      programArgs: [],
      parallelism,
      savepointPath: null,
    });
    simulated.initialized();
    jm.takenIds.add(jid);
    jm.acceptedIds.push(jid);
    jm.jobs.set(jid, simulated);
    return simulated;
  }

  /**
   * Moves a job to one of Flink's JobStatus names (RUNNING, RESTARTING, SUSPENDED, …). As in
   * Flink, a job that reached FINISHED, CANCELED or FAILED stays there; FAILED records a
   * failure like failJob(). Throws for an unknown job or state name.
   */
  setJobState(jobId: string, state: string): void {
    const job = this.jobManager.jobs.get(jobId.toLowerCase());
    if (!job) throw new Error(`the double knows no job ${jobId}`);
    if (!JOB_STATUSES.has(state)) throw new Error(`"${state}" is not a Flink JobStatus`);
    if (TERMINAL_STATES.has(job.state)) return;
    if (state === 'FAILED') job.fail(DEFAULT_JOB_FAILURE);
    else job.moveTo(state);
  }

  /**
   * The job completes a checkpoint, retained under `directory` as Flink writes them
   * (`<dir>/<jobid>/chk-<n>`); `GET /jobs/:jid/checkpoints` then lists it as the latest
   * completed. Answers its external path. Throws for an unknown job.
   */
  completeCheckpoint(jobId: string, directory = 'file:///tmp/flink-checkpoints'): string {
    const job = this.jobManager.jobs.get(jobId.toLowerCase());
    if (!job) throw new Error(`the double knows no job ${jobId}`);
    return job.recordCheckpoint(directory);
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

  /**
   * Flink forgets its savepoint and disposal operations while the jobs stay: their results
   * expired from the operation cache, or a JobManager with HA restarted. Status polls then 404.
   */
  forgetOperations(): void {
    this.jobManager.savepoints.clear();
    this.jobManager.disposals.clear();
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
