import type {
  AdmissionMode,
  FlinkCheck,
  Job,
  ProgramConfig,
  RestartPolicy,
  SavepointRetention,
} from '@flink-orchestrator/domain';
import { scheduleView, type ScheduleView } from '../schedules/views';
import type { Instant } from '../shared/views';

export interface JobView {
  id: string;
  name: string;
  jarURL: string;
  entryClass: string | null;
  config: ProgramConfig;
  parallelism: number | null;
  enabled: boolean;
  cluster: string;
  admission: AdmissionMode;
  restartPolicy: RestartPolicy;
  /** Null: the service's defaults (SAVEPOINT_KEEP_LAST, SAVEPOINT_MAX_AGE_DAYS). */
  savepointRetention: SavepointRetention | null;
  version: number;
  schedule: ScheduleView | null;
  createdAt: Instant;
  updatedAt: Instant;
}

/** A job as the API shows it; field names follow the service this replaces (jarURL). */
export function jobView(job: Job, nextRuns: Date[]): JobView {
  return {
    id: job.id,
    name: job.name,
    jarURL: job.jarUrl,
    entryClass: job.entryClass,
    config: job.config,
    parallelism: job.parallelism,
    enabled: job.enabled,
    cluster: job.cluster,
    admission: job.admission,
    restartPolicy: job.restartPolicy,
    savepointRetention: job.savepointRetention,
    /** Goes up with every change; PUT takes it back (If-Match or `version`) to refuse lost updates. */
    version: job.version,
    schedule: scheduleView(job, nextRuns),
    createdAt: job.createdAt.toISOString(),
    updatedAt: job.updatedAt.toISOString(),
  };
}

/** The ETag of a job: its version, as a strong entity tag. */
export const jobETag = (job: Job) => `"${job.version}"`;

/** A program Flink accepted, as POST /jobs/:id/validate answers it. */
export interface ValidationView {
  valid: true;
  cluster: string;
  /** The Flink jar id that holds the JAR on the cluster: a start reuses it. */
  jarId: string;
  plan: { name: string; operators: number; maxParallelism: number | null };
  /** `parallelism`: null when Flink did not say. */
  operators: { id: string; description: string; parallelism: number | null }[];
}

export function validationView(check: FlinkCheck): ValidationView {
  const { plan } = check;
  return {
    valid: true,
    cluster: check.cluster,
    jarId: check.jarId,
    plan: { name: plan.name, operators: plan.operators.length, maxParallelism: plan.maxParallelism },
    operators: plan.operators.map((o) => ({ id: o.id, description: o.description, parallelism: o.parallelism })),
  };
}
