/** What a job's extra schedule does at each tick. */
export const SCHEDULE_ACTIONS = ['start', 'stop', 'savepoint'] as const;
export type ScheduleAction = (typeof SCHEDULE_ACTIONS)[number];

export interface ActionOptions {
  /** `stop`: with a savepoint (the default) or a plain cancel. */
  savepoint?: boolean;
  /** `stop` with a savepoint: drain first (event-time timers fire). */
  drain?: boolean;
  /** `start`: restore from the job's newest savepoint (when it has one). */
  restoreFrom?: 'latest-savepoint' | null;
}

/**
 * A schedule besides the job's start schedule: stop it at 02:00 with a savepoint, start it
 * from that savepoint at 06:00, take a savepoint every hour.
 */
export interface ActionSchedule {
  id: string;
  jobId: string;
  action: ScheduleAction;
  cron: string;
  timezone: string;
  options: ActionOptions;
  startAt: Date | null;
  endAt: Date | null;
  lastRunAt: Date | null;
  createdAt: Date;
}

export type NewActionSchedule = Omit<ActionSchedule, 'id' | 'lastRunAt' | 'createdAt'>;

/**
 * What a tick did: `pending` while its action runs (claimed), then one of the others.
 * `abandoned`: claimed by a worker that recorded no outcome before the deadline (it died
 * after the claim); the action ran at most once and is never run again.
 */
export type ActionTickOutcome = 'pending' | 'done' | 'skipped' | 'missed' | 'failed' | 'abandoned';

export interface ScheduleTick {
  scheduleId: string;
  scheduledFor: Date;
  outcome: ActionTickOutcome;
  detail: string | null;
  recordedAt: Date;
}
