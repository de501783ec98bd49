/** What the observer last saw of a Flink cluster: the live facts `GET /clusters/:name` shows. */
import type { ExecutionStatus } from '../executions/execution';

/** A job running on Flink that no execution owns (submitted by hand, or by a copy of this service). */
export interface UnmanagedJob {
  flinkJobId: string;
  name: string;
  state: string;
  startTime: Date | null;
}

/** An execution recorded as ended whose Flink job still runs. */
export interface DriftedExecution {
  executionId: string;
  jobId: string;
  status: ExecutionStatus;
  flinkJobId: string;
  flinkState: string;
}

/** Slots as `GET /overview` gave them, read at a slower pace than the jobs. */
export interface SlotFigures {
  taskManagers: number;
  slotsTotal: number;
  slotsFree: number;
  /** `parallelism.default` of the cluster; null when it sets none (Flink then uses 1). */
  defaultParallelism: number | null;
  flinkVersion: string | null;
  observedAt: Date;
}

export interface ClusterObservation {
  cluster: string;
  reachable: boolean;
  /** When the current reachability began: up since, or down since. */
  reachableSince: Date;
  observedAt: Date;
  /** Why the last observation failed, while unreachable. */
  lastError: string | null;
  /** Jobs the JobManager lists that are not globally terminal. */
  runningJobs: number | null;
  slots: SlotFigures | null;
  unmanagedJobs: UnmanagedJob[];
  driftedExecutions: DriftedExecution[];
}
