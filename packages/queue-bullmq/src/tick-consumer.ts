import { Worker } from 'bullmq';
import type { RedisClient } from './connection';
import { workerOptions, type ConsumerOptions } from './consumer-options';
import { SCHEDULES_QUEUE, type TickData } from './message-ids';

/** The tick's nominal fire time, which BullMQ puts in the scheduler job's id and options. */
export function nominalTimeOf(job: {
  id?: string | undefined;
  opts: { prevMillis?: number };
  timestamp: number;
}): Date {
  if (job.opts.prevMillis) return new Date(job.opts.prevMillis);
  const millis = Number(job.id?.split(':').pop());
  return new Date(Number.isFinite(millis) ? millis : job.timestamp);
}

export function startTickConsumer(
  connection: RedisClient,
  onTick: (jobId: string, scheduledFor: Date) => Promise<void>,
  options: ConsumerOptions,
  onActionTick: (scheduleId: string, scheduledFor: Date) => Promise<void> = () => Promise.resolve(),
): Worker<TickData> {
  return new Worker<TickData>(
    SCHEDULES_QUEUE,
    async (job) =>
      job.data.scheduleId
        ? onActionTick(job.data.scheduleId, nominalTimeOf(job))
        : onTick(job.data.jobId, nominalTimeOf(job)),
    workerOptions(connection, options),
  );
}
