import { DependencyUnavailable } from '../shared/errors';
import type { Execution } from './execution';
import type { ExecutionRepository } from './execution-repository';
import type { Logger } from '../shared/logger';
import type { WorkQueue } from '../shared/work-queue';

/**
 * Hands a new QUEUED execution to the workers. One whose message never reached the queue
 * would sit QUEUED forever, so it is removed, with its held event and its audit row, and
 * the caller told to retry: a refused start leaves no trace.
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
    } catch (error) {
      if (await this.executions.discard(execution.id)) {
        this.log.warn({ err: error, executionId: execution.id }, 'enqueue failed; execution discarded');
        throw new DependencyUnavailable('redis', error);
      }
      // The reconciler sent its message meanwhile, or a worker already has it: it runs.
      this.log.warn({ err: error, executionId: execution.id }, 'enqueue failed, but the execution went ahead');
      return execution;
    }
    await releaseQueued(this.executions, this.log, execution.id);
    return execution;
  }
}

/**
 * Its message is on the queue: the held `execution.queued` event is told. The start stands
 * if this fails; the execution's first status change (or the reconciler) releases it.
 */
export async function releaseQueued(executions: ExecutionRepository, log: Logger, id: string): Promise<void> {
  try {
    await executions.confirmQueued([id]);
  } catch (error) {
    log.warn({ err: error, executionId: id }, 'queued event not released; the worker or the reconciler will');
  }
}
