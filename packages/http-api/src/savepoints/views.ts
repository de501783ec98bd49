import type { Savepoint, SavepointKind, SavepointState } from '@flink-orchestrator/domain';
import { iso, type Instant } from '../shared/views';

export interface SavepointView {
  id: string;
  jobId: string;
  executionId: string | null;
  cluster: string;
  kind: SavepointKind;
  status: SavepointState;
  location: string | null;
  errorMessage: string | null;
  createdAt: Instant;
  completedAt: Instant | null;
  disposalRequestedAt: Instant | null;
  disposalError: string | null;
  disposedAt: Instant | null;
}

/** A savepoint record: Flink's trigger ids stay inside. */
export function savepointView(s: Savepoint): SavepointView {
  return {
    id: s.id,
    jobId: s.jobId,
    executionId: s.executionId,
    cluster: s.cluster,
    kind: s.kind,
    status: s.status,
    location: s.location,
    errorMessage: s.errorMessage,
    createdAt: s.createdAt.toISOString(),
    completedAt: iso(s.completedAt),
    disposalRequestedAt: iso(s.disposal?.requestedAt ?? null),
    disposalError: s.disposalError,
    disposedAt: iso(s.disposedAt),
  };
}
