import {
  ADMISSION_MODES,
  EXECUTION_STATUSES,
  EXECUTION_TRIGGERS,
  OVERLAP_POLICIES,
  REPLACE_MODES,
  RESTORE_FROM,
  SAVEPOINT_KINDS,
  SCHEDULE_ACTIONS,
  UPGRADE_MODES,
  UPGRADE_STEPS,
} from '@flink-orchestrator/domain';
import type Joi from 'joi';
import parse from 'joi-to-json';
import { CLUSTER_NAME, configKeySchema, configValueSchema, FLINK_JOB_ID, LIMITS } from './validation';

/**
 * JSON Schemas (the OpenAPI 3.1 dialect, JSON Schema 2020-12) of what the API answers, and the
 * conversion of the joi schemas it validates requests with. openapi.ts puts them in the
 * document; the API tests check every answer they receive against them, so a view that
 * changes without its schema fails a test.
 */
export type JsonSchema = Record<string, unknown>;

/**
 * joi's `oxor` (at most one of the peers) as the plain `not` of every pair, instead of
 * joi-to-json's nested oneOf, which says the same and reads much worse.
 */
function atMostOneOf(schema: JsonSchema, dependency: { peers: string[] }): void {
  const pairs: string[][] = [];
  dependency.peers.forEach((a, i) => dependency.peers.slice(i + 1).forEach((b) => pairs.push([a, b])));
  const cases = pairs.map((pair) => ({ required: pair }));
  schema.not = cases.length === 1 ? cases[0] : { anyOf: cases };
}

/**
 * joi-to-json writes a pattern as the RegExp's `toString()` without its slashes, so the flags
 * stay behind in the text (`^...$/u`), which then matches nothing. A JSON Schema pattern is the
 * RegExp's source, read with the `u` flag; `i` cannot be said at all.
 */
function patternSource(text: string): string {
  const flags = /(?<!\\)\/([dgimsuvy]+)$/.exec(text);
  if (!flags) return text;
  if (/[imsy]/.test(flags[1] as string))
    throw new Error(`the pattern ${text} has flags a JSON Schema pattern cannot carry`);
  return text.slice(0, flags.index);
}

function fixPatterns(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(fixPatterns);
  if (!node || typeof node !== 'object') return;
  const schema = node as JsonSchema;
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'pattern' && typeof value === 'string') schema.pattern = patternSource(value);
    else fixPatterns(value);
  }
}

/** The JSON Schema of a joi schema, as the OpenAPI document gives it. */
export function fromJoi(schema: Joi.Schema): JsonSchema {
  const converted = parse(
    schema,
    'open-api-3.1',
    {},
    {
      logicalOpParser: { oxor: atMostOneOf as never },
    },
  ) as JsonSchema;
  fixPatterns(converted);
  return converted;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const nullable = (schema: JsonSchema) => ({ ...schema, type: [schema.type, 'null'] });
const orNull = (schema: JsonSchema) => ({ anyOf: [schema, { type: 'null' }] });
const instant = { type: 'string', format: 'date-time' };
const uuid = { type: 'string', format: 'uuid' };

/** An object whose every property is always there, and nothing else. */
const exactly = (properties: Record<string, JsonSchema>, extra: JsonSchema = {}) => ({
  type: 'object',
  ...extra,
  required: Object.keys(properties),
  properties,
  additionalProperties: false,
});

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

const SCHEDULE_FIELDS = {
  cron: { type: 'string', description: '5 fields, or 6 with seconds first' },
  timezone: { type: 'string', description: 'IANA time zone' },
  overlap: { enum: [...OVERLAP_POLICIES] },
  replace: {
    enum: [...REPLACE_MODES, null],
    description: 'with overlap "replace": how the active execution is stopped; null otherwise',
  },
  startAt: nullable(instant),
  endAt: nullable(instant),
  nextRuns: { type: 'array', items: instant, description: 'the next ticks; none while the job is disabled' },
  lastRunAt: nullable(instant),
  paused: { type: 'boolean', description: 'the job is disabled' },
  preflightMinutes: {
    type: ['integer', 'null'],
    minimum: 1,
    description: 'the job is checked on its cluster (JAR uploaded, plan built) this many minutes before each tick',
  },
  preflight: {
    description: 'the latest check before a tick; null before the first',
    ...orNull(ref('PreflightCheck')),
  },
};

const admission = (
  description = '"slots": a start waits (QUEUED) until the cluster has the free slots its parallelism needs; "ignore": it goes to Flink whatever the free slots',
) => ({ enum: [...ADMISSION_MODES], description });

const count = { type: 'integer', minimum: 0 };
/** A new object each time: a `type` array shared between schemas gets rewritten by tools that dereference them. */
const countOrNull = (description?: string) => ({
  type: ['integer', 'null'],
  minimum: 0,
  ...(description ? { description } : {}),
});

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

const HEALTH_STATE = { enum: ['ok', 'unavailable', 'unreachable'] };

const FIELD_ERROR = exactly({
  field: { type: ['string', 'null'], description: 'the field, header or parameter at fault' },
  message: { type: 'string' },
});

/** The schemas of the document's components, by name. */
export const COMPONENT_SCHEMAS: Record<string, JsonSchema> = {
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
  RestartDecision: {
    type: 'object',
    required: ['decision', 'decidedAt'],
    additionalProperties: false,
    properties: {
      decision: { enum: ['restarted', 'exhausted', 'skipped'] },
      executionId: { ...uuid, description: 'with "restarted": the execution that replaced this one' },
      restoreFrom: {
        type: 'object',
        required: ['kind', 'path'],
        additionalProperties: false,
        properties: {
          kind: { enum: ['checkpoint', 'restored', 'savepoint', 'none'] },
          path: { type: ['string', 'null'] },
          savepointId: { ...uuid, description: 'the savepoint record restored from, when there is one' },
          reason: { type: 'string', description: 'why this state was chosen (the newest the job had)' },
        },
      },
      reason: { type: 'string', description: 'why it was not restarted' },
      decidedAt: instant,
    },
  },
  Savepoint: exactly(
    {
      id: uuid,
      jobId: uuid,
      executionId: { type: ['string', 'null'], format: 'uuid', description: 'null once that execution was pruned' },
      cluster: { type: 'string' },
      kind: { enum: [...SAVEPOINT_KINDS] },
      status: { enum: ['IN_PROGRESS', 'COMPLETED', 'FAILED'] },
      location: { type: ['string', 'null'], description: 'where Flink wrote it, once COMPLETED' },
      errorMessage: { type: ['string', 'null'], description: "Flink's reason, when FAILED" },
      createdAt: instant,
      completedAt: nullable(instant),
      disposalRequestedAt: nullable(instant),
      disposalError: { type: ['string', 'null'], description: "why Flink's last disposal failed; ask again to retry" },
      disposedAt: { ...nullable(instant), description: 'set once Flink confirmed the disposal' },
    },
    { description: 'A savepoint the orchestrator had Flink take, and what became of its files.' },
  ),
  ActionSchedule: exactly(
    {
      id: uuid,
      jobId: uuid,
      action: { enum: [...SCHEDULE_ACTIONS] },
      cron: { type: 'string' },
      timezone: { type: 'string' },
      savepoint: { type: ['boolean', 'null'], description: 'a stop: with a savepoint; null for the other actions' },
      drain: { type: ['boolean', 'null'], description: 'a stop with a savepoint: drain first; null for the others' },
      restoreFrom: { enum: ['latest-savepoint', null], description: 'a start: from the newest savepoint' },
      startAt: nullable(instant),
      endAt: nullable(instant),
      lastRunAt: nullable(instant),
      nextRuns: { type: 'array', items: instant },
      recentTicks: {
        type: 'array',
        description: 'what its latest ticks did, newest first',
        items: exactly({
          scheduledFor: instant,
          outcome: { enum: ['pending', 'done', 'skipped', 'missed', 'failed', 'abandoned'] },
          detail: { type: ['string', 'null'] },
        }),
      },
      createdAt: instant,
    },
    { description: 'A schedule besides the start schedule: each tick starts, stops or takes a savepoint.' },
  ),
  Webhook: exactly({
    id: uuid,
    url: {
      type: 'string',
      description:
        'whole to write tokens; read-only tokens see its scheme and host (https://hooks.slack.com/…): the rest may be its credential',
    },
    events: { type: 'array', items: { type: 'string' }, description: 'event types, groups (execution.*) or *' },
    jobId: { ...nullable(uuid), description: "only this job's events; null: every event" },
    format: { enum: ['json', 'slack'] },
    enabled: { type: 'boolean' },
    hasSecret: { type: 'boolean', description: 'the secret itself is write-only' },
    disabledReason: { type: ['string', 'null'], description: 'why the service disabled it' },
    failingSince: { ...nullable(instant), description: 'since when every delivery has failed' },
    createdAt: instant,
    updatedAt: instant,
  }),
  WebhookDelivery: exactly({
    id: uuid,
    eventId: { type: 'string' },
    eventType: { type: 'string' },
    status: { enum: ['PENDING', 'DELIVERED', 'FAILED'] },
    attempts: count,
    statusCode: { type: ['integer', 'null'], description: "the receiver's last answer; null: none" },
    durationMs: { type: ['integer', 'null'] },
    lastError: { type: ['string', 'null'] },
    createdAt: instant,
    lastAttemptAt: nullable(instant),
    deliveredAt: nullable(instant),
  }),
  AuditEntry: exactly({
    id: uuid,
    at: instant,
    actor: { type: 'string', description: "the API token's name; anonymous with authentication off" },
    action: { type: 'string', examples: ['job.update', 'job.start', 'webhook.create'] },
    target: exactly({ type: { type: 'string' }, id: { type: ['string', 'null'] } }),
    jobId: nullable(uuid),
    changes: { description: 'what the request asked to change, secrets redacted; null when it sent nothing' },
    requestId: { type: ['string', 'null'] },
  }),
  Event: exactly({
    id: { type: 'string', description: 'unique; a receiver drops a repeated one (delivery is at least once)' },
    type: { type: 'string', examples: ['execution.failed', 'tick.missed', 'savepoint.completed'] },
    occurredAt: instant,
    jobId: nullable(uuid),
    executionId: nullable(uuid),
    data: { type: 'object', description: 'what the event is about: job name, status, error, ...' },
    cursor: { type: 'string', description: 'pass as `after` to read the events after this one' },
  }),
  Upgrade: exactly(
    {
      id: uuid,
      jobId: uuid,
      mode: { enum: [...UPGRADE_MODES] },
      status: { enum: ['IN_PROGRESS', 'COMPLETED', 'FAILED'] },
      step: {
        enum: [...UPGRADE_STEPS],
        description: 'where it is (or where it stopped, when FAILED)',
      },
      changes: {
        type: 'object',
        additionalProperties: false,
        properties: {
          jarURL: { type: 'string' },
          entryClass: { type: ['string', 'null'] },
          config: ref('ProgramConfig'),
          parallelism: { type: ['integer', 'null'], minimum: 1 },
        },
        description: 'the definition fields it changes',
      },
      allowNonRestoredState: { type: 'boolean' },
      fromExecutionId: { type: ['string', 'null'], format: 'uuid', description: 'the execution it stops' },
      toExecutionId: { type: ['string', 'null'], format: 'uuid', description: 'the execution it started' },
      savepointId: { type: ['string', 'null'], format: 'uuid', description: 'the savepoint the old one stopped with' },
      savepointLocation: { type: ['string', 'null'] },
      jobVersionBefore: { type: 'integer', minimum: 1 },
      jobVersionAfter: { type: ['integer', 'null'], minimum: 1 },
      errorMessage: { type: ['string', 'null'], description: 'when FAILED: where and why' },
      recovery: { type: ['string', 'null'], description: 'when FAILED: what to do now' },
      steps: {
        type: 'array',
        items: exactly({
          step: { enum: [...UPGRADE_STEPS, 'failed'] },
          at: instant,
          detail: { type: 'string' },
        }),
      },
      createdAt: instant,
      updatedAt: instant,
      finishedAt: nullable(instant),
    },
    { description: 'An upgrade: one tracked operation with its steps.' },
  ),
  PreflightCheck: exactly(
    {
      scheduledFor: { ...instant, description: 'the tick it was for' },
      checkedAt: instant,
      ok: { type: 'boolean', description: 'Flink accepted the program' },
      message: { type: ['string', 'null'], description: "why not: Flink's reason, or what could not be reached" },
    },
    { description: 'A check of the job on its cluster before a tick.' },
  ),
  Schedule: exactly(SCHEDULE_FIELDS),
  ScheduleEntry: exactly({ jobId: uuid, jobName: { type: 'string' }, ...SCHEDULE_FIELDS }),
  ExecutionDefinition: exactly(
    {
      jarURL: { type: 'string', description: 'as the job had it; a bare name resolves against the data-processor' },
      entryClass: { type: ['string', 'null'] },
      config: ref('ProgramConfig'),
      programArgs: { type: 'array', items: { type: 'string' } },
      parallelism: { type: ['integer', 'null'], minimum: 1 },
      savepointPath: { type: ['string', 'null'] },
      allowNonRestoredState: { type: 'boolean' },
      jobVersion: { type: 'integer', minimum: 1, description: 'the job version it was copied from' },
    },
    { description: 'What the execution runs, copied from the job when the execution was created.' },
  ),
  Execution: exactly({
    id: uuid,
    jobId: uuid,
    cluster: {
      type: 'string',
      description: 'the cluster it was submitted to, copied from the job when it was created',
    },
    trigger: { enum: [...EXECUTION_TRIGGERS] },
    upgradeId: {
      type: ['string', 'null'],
      format: 'uuid',
      description: 'started by this upgrade (trigger "upgrade")',
    },
    restartOf: {
      type: ['string', 'null'],
      format: 'uuid',
      description: 'a restart (trigger "restart"): the failed execution it replaces',
    },
    preflight: {
      description: "a schedule tick's execution: the check run before the tick; null when there was none",
      ...orNull(ref('PreflightCheck')),
    },
    restart: {
      description: 'on a FAILED or LOST execution whose job restarts on failure: what was decided; null otherwise',
      ...orNull(ref('RestartDecision')),
    },
    status: { enum: [...EXECUTION_STATUSES] },
    flinkState: { type: ['string', 'null'], description: "Flink's own state name, as last observed" },
    flinkJobId: { type: ['string', 'null'] },
    flinkJarId: { type: ['string', 'null'] },
    savepointPath: { type: ['string', 'null'], description: 'the savepoint it was restored from' },
    savepointId: {
      type: ['string', 'null'],
      format: 'uuid',
      description: 'the savepoint record it restored from (by id or latest-savepoint); null for a path or a checkpoint',
    },
    savepointLocation: { type: ['string', 'null'], description: 'the savepoint its stop-with-savepoint produced' },
    savepoints: {
      type: 'array',
      items: uuid,
      description: 'the savepoints it produced, oldest first: its stop, manual and periodic ones',
    },
    admission: admission('copied from the job with its definition'),
    waitingFor: {
      enum: ['slots', null],
      description: 'what a QUEUED execution waits for before it goes to Flink; null when it waits for nothing',
    },
    waiting: {
      description: 'while it waits for slots: the figures of the last check; null otherwise',
      ...orNull(
        exactly({
          slotsNeeded: { type: 'integer', minimum: 1 },
          slotsFree: { type: 'integer', description: 'free slots as last observed, less those claimed since' },
          since: { ...instant, description: 'when it was first refused' },
          checks: { ...count, description: 'how many times admission was asked for' },
        }),
      ),
    },
    definition: {
      description: 'null when it runs nothing (SKIPPED, MISSED) or predates these records and has not been submitted',
      ...orNull(ref('ExecutionDefinition')),
    },
    errorMessage: { type: ['string', 'null'] },
    attempt: { type: 'integer', minimum: 0 },
    scheduledFor: nullable(instant),
    createdAt: instant,
    submittedAt: nullable(instant),
    startedAt: nullable(instant),
    finishedAt: nullable(instant),
  }),
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
  Health: exactly({
    status: { enum: ['ok', 'unavailable'] },
    checks: {
      type: 'object',
      description: 'per dependency; "unreachable" marks one that does not decide readiness (Flink)',
      additionalProperties: HEALTH_STATE,
    },
  }),
  Liveness: exactly({ status: { const: 'ok' } }),
  FieldError: FIELD_ERROR,
  Error: exactly({
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'stable; see the list for each answer' },
        message: { type: 'string' },
        details: {
          description: 'validation_failed: the fields at fault; other codes: facts such as currentVersion',
          anyOf: [{ type: 'array', items: ref('FieldError') }, { type: 'object' }],
        },
        requestId: { type: 'string', description: 'on 5xx answers: the id the logs know the request by' },
      },
      additionalProperties: false,
    },
  }),
};

export const schemaRef = ref;
export const arrayOf = (name: string) => ({ type: 'array', items: ref(name) });
