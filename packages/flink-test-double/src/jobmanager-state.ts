/**
 * What the simulated JobManager holds: jars, jobs, savepoint operations, and the logs the
 * tests inspect. The resource handlers share one instance; a restart() empties most of it.
 */
import type { IncomingMessage } from 'node:http';
import { type Flavor, flavorOf } from './flavor';
import type { SavepointOperation } from './savepoints';
import type { SimulatedJob } from './simulated-job';
import { TimerSet } from './timers';

/** How long the simulated steps take; finishMs/failMs time the WordCount and Failing programs. */
export interface Timing {
  initializeMs: number;
  savepointMs: number;
  cancelMs: number;
  finishMs: number;
  failMs: number;
}

export interface Jar {
  id: string;
  name: string;
  uploaded: number;
  entryClass: string | null;
}

export interface RunRequestRecord {
  jarId: string;
  body: Record<string, unknown>;
  /** The JobID the body asked for (a string), also for requests that were refused; null when it named none. */
  jobId: string | null;
  /** When the request arrived (Date.now()). */
  at: number;
  /** The HTTP status answered; null while the request is still being handled. */
  status: number | null;
  /** accepted: the dispatcher took the job; duplicate: refused, the JobID was taken; refused: any other answer. */
  outcome: 'accepted' | 'duplicate' | 'refused' | null;
  /**
   * Whether the answer reached the client's socket: false when the client had gone (killed,
   * timed out) before it was written; null while the request is still being handled.
   */
  delivered: boolean | null;
}

/** One POST /jobs/:jobid/stop or /savepoints trigger, as received. */
export interface SavepointTriggerRecord {
  jobId: string;
  triggerId: string;
  kind: 'stop' | 'savepoint';
  at: number;
  /** False when it named a (job, triggerId) already known: the same operation again. */
  created: boolean;
}

/** What the cluster offers: its TaskManager's slots and its configured `parallelism.default`. */
export interface ClusterSetup {
  /** Total slots (one TaskManager holds them all). */
  slots: number;
  /** `parallelism.default` as configured; null: not configured (Flink then uses 1). */
  defaultParallelism: number | null;
}

export class JobManagerState {
  readonly flavor: Flavor;
  /** The server's base URL, which GET /jars reports as `address`. */
  baseUrl = '';
  readonly jars = new Map<string, Jar>();
  readonly jobs = new Map<string, SimulatedJob>();
  /** JobIDs the dispatcher accepted since the last (simulated) restart: never reusable. */
  readonly takenIds = new Set<string>();
  readonly acceptedIds: string[] = [];
  /** Keyed by `<jobId>/<triggerId>`: stop-with-savepoint and savepoints share one cache. */
  readonly savepoints = new Map<string, SavepointOperation>();
  /** Savepoint completions waiting to happen (a job's own steps are timed by the job). */
  readonly timers = new TimerSet();
  readonly runLog: RunRequestRecord[] = [];
  /** So that the server can note the status and delivery of the answer to a run request. */
  readonly runRecordOf = new WeakMap<IncomingMessage, RunRequestRecord>();
  readonly triggerLog: SavepointTriggerRecord[] = [];
  /** POST /savepoint-disposal operations by Flink's trigger id, and the paths asked for in order. */
  readonly disposals = new Map<string, SavepointOperation>();
  readonly disposalLog: string[] = [];
  uploadCount = 0;

  constructor(
    readonly version: string,
    /** The configured savepoint directory; null: none, so a stop needs `targetDirectory`. */
    readonly savepointDir: string | null,
    readonly timing: Timing,
    /** Mutable: the fault controls change the slots at run time. */
    readonly cluster: ClusterSetup = { slots: 64, defaultParallelism: 1 },
  ) {
    this.flavor = flavorOf(version);
  }

  /** The slots a job holds: its parallelism, else the cluster's default (Flink's own default is 1). */
  slotsOf(job: SimulatedJob): number {
    return job.spec.parallelism ?? this.cluster.defaultParallelism ?? 1;
  }

  clearAllTimers(): void {
    for (const job of this.jobs.values()) job.clearTimers();
    this.timers.clear();
  }
}
