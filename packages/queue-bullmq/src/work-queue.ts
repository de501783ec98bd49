import {
  DependencyUnavailable,
  type EnqueueOptions,
  type WorkMessage,
  type WorkQueue,
} from '@flink-orchestrator/domain';
import { withTimeout } from '@flink-orchestrator/observability';
import { Queue } from 'bullmq';
import type { RedisClient } from './connection';
import { EXECUTIONS_QUEUE, jobIdFor } from './message-ids';

export interface RetryPolicy {
  attempts: number;
  backoffMs: number;
}

// BullMQ waits for a connection that may never come; a request cannot.
const ENQUEUE_TIMEOUT_MS = 3000;

export const DEFAULT_RETRY: RetryPolicy = { attempts: 8, backoffMs: 2000 };

export class BullWorkQueue implements WorkQueue {
  readonly queue: Queue<WorkMessage>;

  constructor(
    connection: RedisClient,
    prefix: string,
    private readonly retry: RetryPolicy = DEFAULT_RETRY,
  ) {
    this.queue = new Queue<WorkMessage>(EXECUTIONS_QUEUE, { connection, prefix });
    this.queue.on('error', () => undefined);
  }

  async enqueue(message: WorkMessage, options: EnqueueOptions = {}): Promise<void> {
    try {
      await withTimeout(
        this.add(message, options.delayMs ?? 0, options.fresh ?? false),
        ENQUEUE_TIMEOUT_MS,
        `Redis did not answer within ${ENQUEUE_TIMEOUT_MS} ms`,
      );
    } catch (error) {
      throw new DependencyUnavailable('redis', error);
    }
  }

  private async add(message: WorkMessage, delayMs: number, fresh: boolean): Promise<void> {
    const send = () =>
      this.queue.add(message.kind, message, {
        jobId: jobIdFor(message),
        delay: delayMs,
        // Transient pipeline failures retry with exponential backoff: 2 s, 4 s, ... ~8 min in all.
        attempts: this.retry.attempts,
        backoff: { type: 'exponential', delay: this.retry.backoffMs },
        removeOnComplete: { count: 1000 },
        removeOnFail: { count: 5000 },
      });
    const job = await send();
    if (fresh) return; // one round trip to Redis: nothing earlier can have this id
    // Same id as a message that failed for good: give it another round (the reconciler's resend).
    if (await job.isFailed()) await job.retry('failed');
    // Same id as a message already done (BullMQ keeps the last completed ones and ignores an
    // add under their id): not pending, so it goes again. E.g. the track message of an
    // execution that is RUNNING again after a failed stop.
    else if (await job.isCompleted()) {
      await job.remove();
      await send();
    }
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}
