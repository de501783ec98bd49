import type { ActionSchedule, ActionTimer, Schedule, ScheduleTimer } from '@flink-orchestrator/domain';
import { Queue } from 'bullmq';
import type { RedisClient } from './connection';
import {
  ACTION_SCHEDULER,
  actionSchedulerIdFor,
  jobIdFromSchedulerId,
  SCHEDULES_QUEUE,
  schedulerIdFor,
  type TickData,
} from './message-ids';

/** BullMQ job schedulers as the timer: one scheduler per job, id derived from the job id. */
export class BullScheduleTimer implements ScheduleTimer {
  readonly queue: Queue<TickData>;

  constructor(connection: RedisClient, prefix: string) {
    this.queue = new Queue<TickData>(SCHEDULES_QUEUE, { connection, prefix });
    this.queue.on('error', () => undefined);
  }

  async upsert(jobId: string, schedule: Schedule): Promise<void> {
    await this.queue.upsertJobScheduler(
      schedulerIdFor(jobId),
      {
        pattern: schedule.cron,
        tz: schedule.timezone,
        ...(schedule.startAt ? { startDate: schedule.startAt } : {}),
        ...(schedule.endAt ? { endDate: schedule.endAt } : {}),
      },
      {
        name: 'tick',
        data: { jobId },
        opts: {
          removeOnComplete: { count: 1000 },
          removeOnFail: { count: 1000 },
          attempts: 5,
          backoff: { type: 'exponential', delay: 500 },
        },
      },
    );
  }

  async remove(jobId: string): Promise<void> {
    await this.queue.removeJobScheduler(schedulerIdFor(jobId));
  }

  async list(): Promise<Map<string, { cron: string; timezone: string }>> {
    const schedulers = await this.queue.getJobSchedulers(0, -1);
    return new Map(
      schedulers
        .filter((s) => !ACTION_SCHEDULER.test(s.id ?? s.key))
        .map((s) => [jobIdFromSchedulerId(s.id ?? s.key), { cron: s.pattern ?? '', timezone: s.tz ?? 'UTC' }]),
    );
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}

/** BullMQ job schedulers as the timers of action schedules, on the same queue as the job's start schedule. */
export class BullActionTimer implements ActionTimer {
  constructor(private readonly queue: Queue<TickData>) {}

  async upsert(schedule: ActionSchedule): Promise<void> {
    await this.queue.upsertJobScheduler(
      actionSchedulerIdFor(schedule.id),
      {
        pattern: schedule.cron,
        tz: schedule.timezone,
        ...(schedule.startAt ? { startDate: schedule.startAt } : {}),
        ...(schedule.endAt ? { endDate: schedule.endAt } : {}),
      },
      {
        name: 'tick',
        data: { jobId: schedule.jobId, scheduleId: schedule.id },
        opts: {
          removeOnComplete: { count: 1000 },
          removeOnFail: { count: 1000 },
          attempts: 5,
          backoff: { type: 'exponential', delay: 500 },
        },
      },
    );
  }

  async remove(scheduleId: string): Promise<void> {
    await this.queue.removeJobScheduler(actionSchedulerIdFor(scheduleId));
  }

  async list(): Promise<Map<string, { cron: string; timezone: string }>> {
    const schedulers = await this.queue.getJobSchedulers(0, -1);
    return new Map(
      schedulers
        .filter((s) => ACTION_SCHEDULER.test(s.id ?? s.key))
        .map((s) => [
          (s.id ?? s.key).replace(ACTION_SCHEDULER, ''),
          { cron: s.pattern ?? '', timezone: s.tz ?? 'UTC' },
        ]),
    );
  }
}
