import { actionSchedulerIdFor, BullScheduleTimer, schedulerIdFor } from '@flink-orchestrator/queue-bullmq';
import IORedis from 'ioredis';
import { REDIS_PREFIX, REDIS_URL } from './test-env';

/** This run's schedule queue in Redis, read-only: is a job's timer gone and its last tick handled? */
export class ScheduleQueueProbe {
  private readonly redis = new IORedis(REDIS_URL, { maxRetriesPerRequest: null });
  private readonly timer = new BullScheduleTimer(this.redis, REDIS_PREFIX);

  /**
   * True once the job has no timer and no tick waiting or in a worker's hands: from then
   * on its history gains no tick. A condition to await instead of watching the clock.
   */
  async settled(jobId: string): Promise<boolean> {
    if (await this.timer.queue.getJobScheduler(schedulerIdFor(jobId))) return false;
    return this.noTickPending(jobId);
  }

  /** No tick of the job's start schedule waiting or being handled (its timer may still exist; action schedules' ticks are not counted). */
  async noTickPending(jobId: string): Promise<boolean> {
    const pending = await this.timer.queue.getJobs(['waiting', 'active', 'delayed', 'prioritized']);
    return !pending.some((job) => job?.data.jobId === jobId && job.data.scheduleId === undefined);
  }

  /** True once an action schedule has no timer and no tick waiting or being handled. */
  async actionSettled(scheduleId: string): Promise<boolean> {
    if (await this.timer.queue.getJobScheduler(actionSchedulerIdFor(scheduleId))) return false;
    const pending = await this.timer.queue.getJobs(['waiting', 'active', 'delayed', 'prioritized']);
    return !pending.some((job) => job?.data.scheduleId === scheduleId);
  }

  async close(): Promise<void> {
    await this.timer.close();
    this.redis.disconnect();
  }
}
