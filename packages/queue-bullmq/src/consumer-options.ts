import type { WorkerOptions } from 'bullmq';
import type { RedisClient } from './connection';

export interface ConsumerOptions {
  prefix: string;
  concurrency: number;
  /** A silent worker's job goes to another worker after this long. */
  lockDurationMs: number;
}

/** The same stall policy for every consumer of ours. */
export function workerOptions(connection: RedisClient, options: ConsumerOptions): WorkerOptions {
  return {
    connection,
    prefix: options.prefix,
    concurrency: options.concurrency,
    lockDuration: options.lockDurationMs,
    stalledInterval: options.lockDurationMs,
    // Every handler is idempotent, so a job that stalled (its worker died) is safe to rerun.
    maxStalledCount: 100,
  };
}
