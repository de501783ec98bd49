import type { ActionSchedule } from './action-schedule';
import type { Schedule } from './schedule';

/** Fires schedule ticks; PostgreSQL stays the record, the timer is only transport. */
export interface ScheduleTimer {
  /** Creates or replaces the timer of one job. */
  upsert(jobId: string, schedule: Schedule): Promise<void>;
  remove(jobId: string): Promise<void>;
  /** jobId -> the pattern and time zone the timer currently uses. */
  list(): Promise<Map<string, { cron: string; timezone: string }>>;
}

/** The newest fire times of a range, and how many earlier ones it holds. */
export interface LatestRuns {
  /** Oldest first. */
  runs: Date[];
  /** Fire times in the range before `runs[0]`. */
  earlier: number;
  /** False when `earlier` was too many to count and is an estimate. */
  earlierExact: boolean;
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
  /**
   * The newest `limit` fire times after `after` and at or before `until` (none before `startAt`),
   * and how many earlier ones the range holds. Costs a step per fire time in the range, up to a bound.
   */
  latestRunsBetween(
    schedule: Pick<Schedule, 'cron' | 'timezone' | 'startAt'>,
    after: Date,
    until: Date,
    limit: number,
  ): LatestRuns;
  /** The fire times just before and just after `at`, strictly (none before `startAt`); null where there is none. */
  around(
    schedule: Pick<Schedule, 'cron' | 'timezone' | 'startAt'>,
    at: Date,
  ): { previous: Date | null; next: Date | null };
}

/** The timers of action schedules: one per schedule, keyed by its id. */
export interface ActionTimer {
  upsert(schedule: ActionSchedule): Promise<void>;
  remove(scheduleId: string): Promise<void>;
  /** scheduleId -> the pattern and time zone the timer currently uses. */
  list(): Promise<Map<string, { cron: string; timezone: string }>>;
}
