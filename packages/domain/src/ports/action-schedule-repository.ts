import type { ActionSchedule, NewActionSchedule, ScheduleTick, ActionTickOutcome } from '../action-schedule';

export interface ActionScheduleRepository {
  /** Null when the job does not exist. */
  create(schedule: NewActionSchedule): Promise<ActionSchedule | null>;
  get(id: string): Promise<ActionSchedule | null>;
  listByJob(jobId: string): Promise<ActionSchedule[]>;
  /** Every action schedule of every job: what the timers are reconciled with. */
  listAll(): Promise<ActionSchedule[]>;
  /** False when there was none (or not the job's). */
  delete(jobId: string, id: string): Promise<boolean>;
  /**
   * Claims one tick, `pending`, and records it as the schedule's last run: false when the
   * tick was claimed already (delivered twice), and nothing must be done again.
   */
  claimTick(scheduleId: string, scheduledFor: Date): Promise<boolean>;
  /** Records a tick that is not run (too late), if it has no record yet. */
  recordTick(scheduleId: string, scheduledFor: Date, outcome: ActionTickOutcome, detail: string): Promise<void>;
  /** What the claimed tick did. */
  settleTick(scheduleId: string, scheduledFor: Date, outcome: ActionTickOutcome, detail: string): Promise<void>;
  /** The newest ticks of each schedule, newest first, at most `limit` each. */
  recentTicks(scheduleIds: readonly string[], limit: number): Promise<Map<string, ScheduleTick[]>>;
}
