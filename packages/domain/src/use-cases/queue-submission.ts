import { DependencyUnavailable } from '../errors';
import type { Execution } from '../execution';
import type { ExecutionRepository } from '../ports/execution-repository';
import type { Logger } from '../ports/logger';
import type { WorkQueue } from '../ports/work-queue';

/**
 * Hands a new QUEUED execution to the workers. One whose message never reached the queue
 * would sit QUEUED forever, so it is removed and the caller told to retry.
 */
export class QueueSubmission {
  constructor(
    private readonly executions: ExecutionRepository,
    private readonly queue: WorkQueue,
    private readonly log: Logger,
  ) {}

  async run(execution: Execution): Promise<Execution> {
    try {
      await this.queue.enqueue({ kind: 'submit', executionId: execution.id }, { fresh: true });
      return execution;
    } catch (error) {
      this.log.warn({ err: error, executionId: execution.id }, 'enqueue failed; execution discarded');
      await this.executions.discard(execution.id);
      throw new DependencyUnavailable('redis', error);
    }
  }
}
