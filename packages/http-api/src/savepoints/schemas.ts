import { SAVEPOINT_KINDS } from '@flink-orchestrator/domain';
import { exactly, instant, nullable, uuid, type JsonSchema } from '../shared/schemas';

/** What the savepoints routes answer. */
export const SAVEPOINT_SCHEMAS: Record<string, JsonSchema> = {
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
};
