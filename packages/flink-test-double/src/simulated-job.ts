/**
 * One job as the double's Dispatcher knows it: its JobStatus timeline, failures and
 * savepoints, and the JSON views Flink's job handlers give of it.
 */
import type { Flavor } from './flavor';
import { JOB_EXCEPTION, RECOVERY_SUPPRESSED, stackText } from './java-errors';
import { TimerSet } from './timers';

/** How a submitted program behaves, chosen by its entry class (see README.md). */
export type Behaviour = 'finishes' | 'streams' | 'fails' | 'throws-in-main' | 'missing-class';

const JAVA_CLASS = /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/;

export function behaviourOf(entryClass: string): Behaviour {
  if (/Nope|DoesNotExist|Missing/.test(entryClass) || !JAVA_CLASS.test(entryClass)) return 'missing-class';
  if (/ThrowsInMain/.test(entryClass)) return 'throws-in-main';
  if (/Failing/.test(entryClass)) return 'fails';
  if (/WordCount|Finishing/.test(entryClass)) return 'finishes';
  return 'streams';
}

/** A jar without a manifest class: only its file name tells (WordCount finishes, the rest streams). */
export function behaviourOfJarName(fileName: string): Behaviour {
  return /WordCount/.test(fileName) ? 'finishes' : 'streams';
}

export const TERMINAL_STATES: ReadonlySet<string> = new Set(['FINISHED', 'CANCELED', 'FAILED']);

/** Flink's JobStatus names. */
export const JOB_STATUSES: ReadonlySet<string> = new Set([
  'INITIALIZING',
  'CREATED',
  'RUNNING',
  'FAILING',
  'FAILED',
  'CANCELLING',
  'CANCELED',
  'FINISHED',
  'RESTARTING',
  'SUSPENDED',
  'RECONCILING',
]);

const EXECUTION_STATES = [
  'CREATED',
  'SCHEDULED',
  'DEPLOYING',
  'RUNNING',
  'FINISHED',
  'CANCELING',
  'CANCELED',
  'FAILED',
  'RECONCILING',
  'INITIALIZING',
];

/** The per-state task counts of an overview entry: all zero (no vertices), so built once for every job. */
const NO_TASKS: Readonly<Record<string, number>> = Object.freeze(
  Object.fromEntries(['total', ...EXECUTION_STATES.map((s) => s.toLowerCase())].map((k) => [k, 0])),
);

// A made-up TaskManager, so failure entries carry the fields a real one fills in.
const TM_ENDPOINT = '127.0.0.1:36519';
const TM_ID = '127.0.0.1:36519-5f2c1e';

interface Failure {
  cause: string;
  timestamp: number;
}

/** A completed savepoint or retained checkpoint, as the checkpoint statistics list it. */
interface Snapshot {
  id: number;
  path: string;
  triggered: number;
  completed: number;
  savepoint: boolean;
}

export interface JobSpec {
  jid: string;
  name: string;
  entryClass: string | null;
  programArgs: string[];
  parallelism: number | null;
  savepointPath: string | null;
}

export class SimulatedJob {
  state = 'INITIALIZING';
  readonly startTime = Date.now();
  endTime = -1;
  readonly timestamps: Record<string, number> = { INITIALIZING: this.startTime };
  /** When the state last changed. */
  private lastModification = this.startTime;
  private failure: Failure | null = null;
  /** Savepoints and checkpoints, in the order they completed; ids count both, as Flink's do. */
  private readonly snapshots: Snapshot[] = [];
  private readonly timers = new TimerSet();

  constructor(readonly spec: JobSpec) {}

  get jid(): string {
    return this.spec.jid;
  }

  moveTo(state: string): void {
    if (TERMINAL_STATES.has(this.state)) return;
    this.state = state;
    this.lastModification = Date.now();
    this.timestamps[state] = this.lastModification;
    if (TERMINAL_STATES.has(state)) {
      this.endTime = Date.now();
      this.clearTimers();
    }
  }

  /** INITIALIZING → RUNNING, unless something (a cancel, a failure) got there first. */
  initialized(): void {
    if (this.state === 'INITIALIZING') this.moveTo('RUNNING');
  }

  /** A task failure without restarts (NoRestartBackoffTimeStrategy: no checkpointing). */
  fail(cause: string): void {
    if (TERMINAL_STATES.has(this.state)) return;
    this.failure = { cause, timestamp: Date.now() };
    this.moveTo('FAILED');
  }

  recordSavepoint(path: string, triggered: number): void {
    this.snapshots.push({ id: this.snapshots.length + 1, path, triggered, completed: Date.now(), savepoint: true });
  }

  /** A retained checkpoint: `<dir>/<jobid>/chk-<id>`. Answers its path. */
  recordCheckpoint(directory: string): string {
    const id = this.snapshots.length + 1;
    const path = `${directory.replace(/\/$/, '')}/${this.jid}/chk-${id}`;
    const now = Date.now();
    this.snapshots.push({ id, path, triggered: now, completed: now, savepoint: false });
    return path;
  }

  later(ms: number, action: () => void): void {
    this.timers.later(ms, action);
  }

  clearTimers(): void {
    this.timers.clear();
  }

  private duration(now: number): number {
    return (this.endTime > 0 ? this.endTime : now) - this.startTime;
  }

  /** GET /jobs/:jobid (JobDetailsInfo). There are no vertices: no program really runs. */
  details(flavor: Flavor, now = Date.now()): Record<string, unknown> {
    const body: Record<string, unknown> = {
      jid: this.jid,
      name: this.spec.name,
      isStoppable: false,
      state: this.state,
      'job-type': 'STREAMING',
      'start-time': this.startTime,
      'end-time': this.endTime,
      duration: this.duration(now),
      maxParallelism: -1,
      now,
      timestamps: this.timestamps,
      vertices: [],
      'status-counts': Object.fromEntries(EXECUTION_STATES.map((s) => [s, 0])),
      plan: { jid: this.jid, name: this.spec.name, type: 'STREAMING', nodes: [] },
    };
    if (flavor.v2) {
      body['pending-operators'] = 0;
      body['stream-graph'] = { nodes: [] };
    }
    if (flavor.v23) {
      body.schedulerType = 'Default';
      body['application-id'] = this.jid;
    }
    return body;
  }

  /** One entry of GET /jobs/overview (JobDetails). Cheap: the double may hold many thousands of jobs. */
  overview(flavor: Flavor, now = Date.now()): Record<string, unknown> {
    const body: Record<string, unknown> = {
      jid: this.jid,
      name: this.spec.name,
      state: this.state,
      'start-time': this.startTime,
      'end-time': this.endTime,
      duration: this.duration(now),
      'last-modification': this.lastModification,
      tasks: NO_TASKS,
    };
    if (flavor.v2) body['pending-operators'] = 0;
    if (flavor.v23) {
      body.jobType = 'STREAMING';
      body.schedulerType = 'Default';
    }
    return body;
  }

  /**
   * GET /jobs/:jobid/exceptions. Like Flink without restarts, the root entry is the
   * JobException "Recovery is suppressed…" whose cause is the task's exception.
   */
  exceptions(flavor: Flavor, maxExceptions: number): Record<string, unknown> {
    const f = this.failure;
    const rootTrace = f ? stackText(RECOVERY_SUPPRESSED, [f.cause]) : null;
    const entries = f
      ? [
          {
            exceptionName: JOB_EXCEPTION,
            stacktrace: rootTrace,
            timestamp: f.timestamp,
            taskName: `${this.spec.name} (1/1)#0`,
            ...(flavor.v2 ? {} : { location: TM_ENDPOINT }),
            endpoint: TM_ENDPOINT,
            taskManagerId: TM_ID,
            failureLabels: {},
            concurrentExceptions: [],
          },
        ]
      : [];
    const history = { entries: entries.slice(0, maxExceptions), truncated: entries.length > maxExceptions };
    if (flavor.v2) return { exceptionHistory: history };
    // 1.x also carries the deprecated top-level fields (removed in 2.0).
    return {
      'root-exception': rootTrace,
      timestamp: f?.timestamp ?? null,
      'all-exceptions': f
        ? [
            {
              exception: stackText(f.cause),
              task: `${this.spec.name} (1/1)`,
              location: TM_ENDPOINT,
              endpoint: TM_ENDPOINT,
              timestamp: f.timestamp,
              taskManagerId: TM_ID,
            },
          ]
        : [],
      truncated: false,
      exceptionHistory: history,
    };
  }

  /**
   * GET /jobs/:jobid/checkpoints: savepoints and checkpoints taken, and the one restored
   * from (as a real cluster shows). As Flink's CheckpointStatsHistory keeps them,
   * `latest.completed` is the newest checkpoint that is not a savepoint, `latest.savepoint`
   * the newest savepoint.
   */
  checkpoints(): Record<string, unknown> {
    const restored = this.spec.savepointPath
      ? { id: 1, restore_timestamp: this.startTime, is_savepoint: true, external_path: this.spec.savepointPath }
      : null;
    const history = this.snapshots
      .map((s) => ({
        className: 'completed',
        id: s.id,
        status: 'COMPLETED',
        is_savepoint: s.savepoint,
        savepointFormat: s.savepoint ? 'CANONICAL' : null,
        trigger_timestamp: s.triggered,
        latest_ack_timestamp: s.completed,
        end_to_end_duration: s.completed - s.triggered,
        external_path: s.path,
        discarded: false,
        checkpointType: s.savepoint ? 'SAVEPOINT' : 'CHECKPOINT',
      }))
      .reverse();
    const zero = { min: 0, max: 0, avg: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0 };
    return {
      counts: {
        restored: restored ? 1 : 0,
        total: history.length,
        in_progress: 0,
        completed: history.length,
        failed: 0,
      },
      summary: { checkpointed_size: zero, state_size: zero, end_to_end_duration: zero, processed_data: zero },
      latest: {
        completed: history.find((h) => !h.is_savepoint) ?? null,
        savepoint: history.find((h) => h.is_savepoint) ?? null,
        failed: null,
        restored,
      },
      history,
    };
  }
}
