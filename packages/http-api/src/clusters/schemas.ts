import { EXECUTION_STATUSES } from '@flink-orchestrator/domain';
import { CLUSTER_NAME, FLINK_JOB_ID } from './validation';
import { countOrNull, exactly, instant, nullable, orNull, ref, uuid, type JsonSchema } from '../shared/schemas';

const CLUSTER_FIELDS = {
  name: { type: 'string', pattern: CLUSTER_NAME.source },
  url: { type: 'string', description: 'the JobManager REST endpoint' },
  auth: {
    description: 'only the kind of credentials: they are write-only, never answered',
    ...orNull(exactly({ type: { enum: ['basic', 'bearer'] } })),
  },
  savepointDir: {
    type: ['string', 'null'],
    description: "where its savepoints go; null: the service's SAVEPOINT_DIR",
  },
  createdAt: instant,
  updatedAt: instant,
};

/** What the clusters routes answer. */
export const CLUSTER_SCHEMAS: Record<string, JsonSchema> = {
  Cluster: exactly(CLUSTER_FIELDS),
  ClusterDetail: exactly({
    ...CLUSTER_FIELDS,
    observed: {
      description:
        'what the observer last saw of the cluster (never a call to Flink per request); null until it has seen it',
      ...orNull(ref('ClusterObservation')),
    },
  }),
  ClusterObservation: exactly({
    reachable: { type: 'boolean' },
    since: { ...instant, description: 'when the current reachability began: up since, or down since' },
    observedAt: instant,
    lastError: { type: ['string', 'null'], description: 'why the last observation failed, while unreachable' },
    flinkVersion: { type: ['string', 'null'] },
    taskManagers: countOrNull('null, as every slot figure, until the slots were observed'),
    slotsTotal: countOrNull(),
    slotsFree: countOrNull(),
    defaultParallelism: {
      type: ['integer', 'null'],
      minimum: 1,
      description: "the cluster's parallelism.default; null when it sets none (Flink then uses 1)",
    },
    slotsObservedAt: nullable(instant),
    runningJobs: countOrNull('jobs the JobManager lists that are not globally terminal'),
    unmanagedJobs: {
      type: 'array',
      description: 'jobs running on Flink that no execution owns',
      items: exactly({
        flinkJobId: { type: 'string', pattern: FLINK_JOB_ID.source },
        name: { type: 'string' },
        state: { type: 'string', description: "Flink's JobStatus name" },
        startTime: nullable(instant),
      }),
    },
    driftedExecutions: {
      type: 'array',
      description: 'executions recorded as ended whose Flink job still runs',
      items: exactly({
        executionId: uuid,
        jobId: uuid,
        status: { enum: [...EXECUTION_STATUSES] },
        flinkJobId: { type: 'string', pattern: FLINK_JOB_ID.source },
        flinkState: { type: 'string' },
      }),
    },
  }),
  FlinkJobCancelled: exactly({
    cluster: { type: 'string', pattern: CLUSTER_NAME.source },
    flinkJobId: { type: 'string', pattern: FLINK_JOB_ID.source },
    cancelled: { const: true, description: 'Flink accepted the cancel; the job ends shortly' },
  }),
};
