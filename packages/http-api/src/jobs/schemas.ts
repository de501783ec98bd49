import { ADMISSION_MODES, RESTORE_FROM } from '@flink-orchestrator/domain';
import { count, exactly, fromJoi, instant, orNull, ref, uuid, type JsonSchema } from '../shared/schemas';
import { LIMITS } from '../shared/validation';
import { CLUSTER_NAME } from '../clusters/validation';
import { configKeySchema, configValueSchema } from './validation';

/**
 * `config`: joi's `object().pattern(key, value)` has no joi-to-json counterpart (it says "no
 * key at all"), so the key and the value schema are converted on their own.
 */
const PROGRAM_CONFIG = {
  type: 'object',
  description:
    'Flink program arguments: {"input": "/data", "speed": 5} runs the JAR with ["--input", "/data", "--speed", "5"], keys sorted.',
  maxProperties: LIMITS.configKeys,
  propertyNames: fromJoi(configKeySchema),
  additionalProperties: fromJoi(configValueSchema),
};

/** A job's admission mode; an execution shows the one it copied. */
export const admission = (
  description = '"slots": a start waits (QUEUED) until the cluster has the free slots its parallelism needs; "ignore": it goes to Flink whatever the free slots',
) => ({ enum: [...ADMISSION_MODES], description });

/** What the jobs routes answer. */
export const JOB_SCHEMAS: Record<string, JsonSchema> = {
  ProgramConfig: PROGRAM_CONFIG,
  Job: exactly({
    id: uuid,
    name: { type: 'string' },
    jarURL: { type: 'string' },
    entryClass: { type: ['string', 'null'] },
    config: ref('ProgramConfig'),
    parallelism: { type: ['integer', 'null'], minimum: 1 },
    enabled: { type: 'boolean' },
    cluster: { type: 'string', description: 'the name of the Flink cluster it runs on' },
    admission: admission(),
    restartPolicy: ref('RestartPolicy'),
    savepointRetention: {
      description:
        "how long its savepoints are kept; null: the service's defaults (SAVEPOINT_KEEP_LAST, SAVEPOINT_MAX_AGE_DAYS)",
      ...orNull(
        exactly({
          keepLast: { type: 'integer', minimum: 1, description: 'the newest this many are kept' },
          maxAgeDays: {
            type: 'integer',
            minimum: 1,
            description: 'none older than this is kept (the newest always is)',
          },
        }),
      ),
    },
    version: { type: 'integer', minimum: 1, description: 'goes up with every change; also the ETag' },
    schedule: orNull(ref('Schedule')),
    createdAt: instant,
    updatedAt: instant,
  }),
  RestartPolicy: exactly(
    {
      onFailure: { enum: ['never', 'restart'], description: 'restart an execution that ends FAILED after running' },
      onLost: { enum: ['never', 'restart'], description: 'restart one that ends LOST (Flink forgot the job)' },
      maxRestarts: { ...count, description: 'at most this many restarts within the window; then it stays FAILED' },
      withinMinutes: { type: 'integer', minimum: 1 },
      backoffSeconds: { ...count, description: 'the restart is submitted no sooner than this after the failure' },
      restoreFrom: {
        enum: [...RESTORE_FROM],
        description:
          "latest-checkpoint: the failed job's latest retained checkpoint, else what it restored from, else the latest savepoint",
      },
    },
    { description: 'What happens when an execution fails; every field present, defaults filled in.' },
  ),
  Validation: exactly(
    {
      valid: { const: true },
      cluster: { type: 'string', pattern: CLUSTER_NAME.source, description: 'the cluster that checked it' },
      jarId: { type: 'string', description: 'the Flink jar id holding the JAR there; a start reuses it' },
      plan: exactly({
        name: { type: 'string', description: "the job's name, as the program gives it" },
        operators: { ...count, description: 'how many operators (vertices) the plan has' },
        maxParallelism: {
          type: ['integer', 'null'],
          minimum: 1,
          description: 'the largest parallelism the job may take; null when Flink gives none',
        },
      }),
      operators: {
        type: 'array',
        description: "the plan's operators, sources first, as Flink lists them",
        items: exactly({
          id: { type: 'string' },
          description: { type: 'string', description: "Flink's description of the operator" },
          parallelism: { type: ['integer', 'null'], minimum: 1, description: 'null when Flink did not say' },
        }),
      },
    },
    { description: 'Flink accepted the program: its JAR is on the cluster and Flink built its plan.' },
  ),
};
