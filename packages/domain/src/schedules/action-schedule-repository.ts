import type { ActionSchedule, NewActionSchedule, ScheduleTick, ActionTickOutcome } from './action-schedule';

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
  /**
   * Records a tick that is not run (too late), if it has no record yet, and advances the
   * schedule's last run to it: the catch-up of dropped ticks starts from there.
   */
  recordTick(scheduleId: string, scheduledFor: Date, outcome: ActionTickOutcome, detail: string): Promise<void>;
  /**
   * What the claimed tick did. A tick abandoned meanwhile takes the outcome too (what the
   * action did is the better record), its detail saying it came after the abandonment.
   */
  settleTick(scheduleId: string, scheduledFor: Date, outcome: ActionTickOutcome, detail: string): Promise<void>;
  /**
   * Settles as `abandoned`, with `detail`, up to `limit` ticks still `pending` that were
   * claimed before `claimedBefore`. Answers the ticks settled.
   */
  abandonPending(claimedBefore: Date, detail: string, limit: number): Promise<ScheduleTick[]>;
  /** The newest ticks of each schedule, newest first, at most `limit` each. */
  recentTicks(scheduleIds: readonly string[], limit: number): Promise<Map<string, ScheduleTick[]>>;
}
