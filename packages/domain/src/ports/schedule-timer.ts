import type { Schedule } from '../schedule';

/** Fires schedule ticks; PostgreSQL stays the record, the timer is only transport. */
export interface ScheduleTimer {
  /** Creates or replaces the timer of one job. */
  upsert(jobId: string, schedule: Schedule): Promise<void>;
  remove(jobId: string): Promise<void>;
  /** jobId -> the pattern and time zone the timer currently uses. */
  list(): Promise<Map<string, { cron: string; timezone: string }>>;
}

export interface CronCalendar {
  /** Throws InvalidSchedule naming the field at fault. */
  validate(cron: string, timezone: string): void;
  nextRuns(schedule: Pick<Schedule, 'cron' | 'timezone' | 'startAt' | 'endAt'>, from: Date, count: number): Date[];
  /** Fire times strictly between `after` and `before` (none before `startAt`), at most `limit`. Called per tick: cheap. */
  runsBetween(
    schedule: Pick<Schedule, 'cron' | 'timezone' | 'startAt'>,
    after: Date,
    before: Date,
    limit: number,
  ): Date[];
}
