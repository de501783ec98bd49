import { UPGRADE_MODES, UPGRADE_STEPS } from '@flink-orchestrator/domain';
import { exactly, instant, nullable, ref, uuid, type JsonSchema } from '../shared/schemas';

/** What the upgrades routes answer. */
export const UPGRADE_SCHEMAS: Record<string, JsonSchema> = {
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
};
