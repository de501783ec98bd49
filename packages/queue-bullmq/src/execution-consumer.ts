import type { Attempt, PollResult, WorkMessage } from '@flink-orchestrator/domain';
import { DelayedError, Worker, type Job } from 'bullmq';
import type { RedisClient } from './connection';
import { workerOptions, type ConsumerOptions } from './consumer-options';
import { EXECUTIONS_QUEUE } from './message-ids';

export interface ExecutionHandlers {
  /** Returns when to try again (the execution waits for slots), or null when the message is done. */
  submit(executionId: string, attempt: Attempt): Promise<PollResult>;
  /** `requestedAt`: the stop request this message carries; a newer one supersedes it. */
  stop(executionId: string, attempt: Attempt, requestedAt: Date): Promise<void>;
  /** Takes the savepoint recorded under this id. */
  savepoint(savepointId: string, attempt: Attempt): Promise<void>;
  /** Disposes of the savepoint through Flink. */
  dispose(savepointId: string, attempt: Attempt): Promise<void>;
  /** Checks a job on its cluster before the tick at `scheduledFor`. */
  preflight(jobId: string, scheduledFor: Date, attempt: Attempt): Promise<void>;
  /** Carries an upgrade on; returns when to look again, or null when it is over. */
  upgrade(upgradeId: string, attempt: Attempt): Promise<PollResult>;
}

function attemptOf(job: Job): Attempt {
  const number = job.attemptsMade + 1;
  return { number, final: number >= (job.opts.attempts ?? 1) };
}

/**
 * Runs execution messages. A submit message waiting for slots re-delays itself, so it
 * keeps its id (one pending submission per execution) and its attempts.
 */
export function startExecutionConsumer(
  connection: RedisClient,
  handlers: ExecutionHandlers,
  options: ConsumerOptions,
): Worker<WorkMessage> {
  const worker = new Worker<WorkMessage>(
    EXECUTIONS_QUEUE,
    async (job, token) => {
      const message = job.data;
      switch (message.kind) {
        case 'submit': {
          const again = await handlers.submit(message.executionId, attemptOf(job));
          if (again === null) return;
          await job.moveToDelayed(Date.now() + again, token);
          throw new DelayedError();
        }
        case 'stop':
          return handlers.stop(message.executionId, attemptOf(job), new Date(message.requestedAt));
        case 'savepoint':
          return handlers.savepoint(message.savepointId, attemptOf(job));
        case 'dispose':
          return handlers.dispose(message.savepointId, attemptOf(job));
        case 'preflight':
          return handlers.preflight(message.jobId, new Date(message.scheduledFor), attemptOf(job));
        case 'upgrade': {
          const again = await handlers.upgrade(message.upgradeId, attemptOf(job));
          if (again === null) return;
          await job.moveToDelayed(Date.now() + again, token);
          throw new DelayedError();
        }
        default: {
          const unknown: never = message;
          // A `track` message from before the cluster observers: they follow RUNNING executions now.
          if ((unknown as { kind?: unknown }).kind === 'track') return;
          throw new Error(`unknown message ${JSON.stringify(unknown)}`);
        }
      }
    },
    workerOptions(connection, options),
  );
  return worker;
}
