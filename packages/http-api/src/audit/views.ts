import type { AuditRecord } from '@flink-orchestrator/domain';

export function auditView(record: AuditRecord) {
  return {
    id: record.id,
    at: record.createdAt.toISOString(),
    actor: record.actor,
    action: record.action,
    target: { type: record.targetType, id: record.targetId },
    jobId: record.jobId,
    changes: record.changes,
    requestId: record.requestId,
  };
}
