import { EXECUTION_STATUSES, EXECUTION_TRIGGERS } from '@flink-orchestrator/domain';
import { admission } from '../jobs/schemas';
import { count, exactly, instant, nullable, orNull, ref, uuid, type JsonSchema } from '../shared/schemas';

/** What the executions routes answer. */
export const EXECUTION_SCHEMAS: Record<string, JsonSchema> = {
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
};
