import type { ExecutionRepository } from './execution-repository';
import type { Logger } from '../shared/logger';
import type { WorkMessage, WorkQueue } from '../shared/work-queue';
import type { Execution } from './execution';

/** The message that moves an active execution forward from where its row says it is. */
export function nextMessageFor(execution: Execution): WorkMessage | null {
  switch (execution.status) {
    case 'QUEUED':
    case 'SUBMITTING':
      return { kind: 'submit', executionId: execution.id };
    // RUNNING needs no message: its cluster's observer follows it.
    case 'STOPPING':
      return execution.submittedAt && execution.stopRequest
        ? { kind: 'stop', executionId: execution.id, requestedAt: execution.stopRequest.requestedAt.getTime() }
        : { kind: 'submit', executionId: execution.id };
    default:
      return null;
  }
}

/**
 * PostgreSQL is the record; the queue only carries work. This sweep re-sends the message
 * each active execution needs, so work lost with Redis (a flush, a failover) resumes.
 * Messages are idempotent, so sending one that is still pending changes nothing.
 */
export class ReconcileExecutions {
  constructor(
    private readonly executions: ExecutionRepository,
    private readonly queue: WorkQueue,
    private readonly log: Logger,
  ) {}

  async sweep(updatedBefore?: Date): Promise<number> {
    const active = await this.executions.listActive(updatedBefore);
    let sent = 0;
    const queued: string[] = [];
    for (const execution of active) {
      const message = nextMessageFor(execution);
      if (!message) continue;
      await this.queue.enqueue(message);
      sent++;
      if (execution.status === 'QUEUED') queued.push(execution.id);
    }
    // Their messages are on the queue now: an event held since a crash before the first
    // enqueue (or its release) is told.
    await this.executions.confirmQueued(queued);
    if (sent > 0) this.log.debug({ sent }, 'reconciled active executions with the queue');
    return sent;
  }
}
