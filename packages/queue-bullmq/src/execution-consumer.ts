import type { Attempt, PollResult, WorkMessage } from '@flink-orchestrator/domain';
import { DelayedError, Worker, type Job } from 'bullmq';
import type { RedisClient } from './connection';
import { workerOptions, type ConsumerOptions } from './consumer-options';
import { EXECUTIONS_QUEUE } from './message-ids';

export interface ExecutionHandlers {
  submit(executionId: string, attempt: Attempt): Promise<void>;
  /** Returns when to poll again, or null when tracking is over. */
  track(executionId: string): Promise<PollResult>;
  /** `requestedAt`: the stop request this message carries; a newer one supersedes it. */
  stop(executionId: string, attempt: Attempt, requestedAt: Date): Promise<void>;
}

function attemptOf(job: Job): Attempt {
  const number = job.attemptsMade + 1;
  return { number, final: number >= (job.opts.attempts ?? 1) };
}

/**
 * Runs execution messages. A track message re-delays itself between polls, so one
 * message (and so one worker at a time) follows each running execution.
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
        case 'submit':
          return handlers.submit(message.executionId, attemptOf(job));
        case 'stop':
          return handlers.stop(message.executionId, attemptOf(job), new Date(message.requestedAt));
        case 'track': {
          const next = await handlers.track(message.executionId);
          if (next === null) return;
          await job.moveToDelayed(Date.now() + next, token);
          throw new DelayedError();
        }
        default: {
          const unknown: never = message;
          throw new Error(`unknown message ${JSON.stringify(unknown)}`);
        }
      }
    },
    workerOptions(connection, options),
  );
  return worker;
}
