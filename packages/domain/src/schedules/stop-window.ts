import type { ActionSchedule } from './action-schedule';
import type { CronCalendar } from './schedule-timer';

/**
 * A job's stop window: open from a tick of one of its `stop` schedules until the next tick
 * of one of its `start` schedules. Without a start schedule to end it, a stop tick opens no
 * window: a window without an end would refuse every start for good.
 */
export interface StopWindow {
  stopScheduleId: string;
  /** The stop tick that opened it. */
  openedAt: Date;
  /** The start tick that closes it (the window is open before this instant). */
  endsAt: Date;
  startScheduleId: string;
}

/**
 * The stop windows of one job, from its action schedules. A schedule's ticks count from its
 * creation (and its startAt) to its endAt: ticks before it existed never fell due.
 */
export class JobStopWindows {
  private readonly stops: readonly ActionSchedule[];
  private readonly starts: readonly ActionSchedule[];

  constructor(
    schedules: readonly ActionSchedule[],
    private readonly calendar: CronCalendar,
  ) {
    this.stops = schedules.filter((s) => s.action === 'stop');
    this.starts = schedules.filter((s) => s.action === 'start');
  }

  /** The window open at `at`, if any. */
  openAt(at: Date): StopWindow | null {
    let opened: { schedule: ActionSchedule; at: Date } | null = null;
    for (const schedule of this.stops) {
      const tick = this.latestTick(schedule, at);
      if (tick && (!opened || tick > opened.at)) opened = { schedule, at: tick };
    }
    if (!opened) return null;
    const window = this.windowOf(opened.schedule.id, opened.at);
    return window && at < window.endsAt ? window : null;
  }

  /** The window a stop tick of `stopScheduleId` at `openedAt` opens: null when no start tick ends it. */
  windowOf(stopScheduleId: string, openedAt: Date): StopWindow | null {
    let end: { schedule: ActionSchedule; at: Date } | null = null;
    for (const schedule of this.starts) {
      const [next] = this.calendar.nextRuns({ ...schedule, startAt: this.firstDue(schedule) }, openedAt, 1);
      if (next && next > openedAt && (!end || next < end.at)) end = { schedule, at: next };
    }
    return end ? { stopScheduleId, openedAt, endsAt: end.at, startScheduleId: end.schedule.id } : null;
  }

  /** The schedule's newest tick at or before `at`. */
  private latestTick(schedule: ActionSchedule, at: Date): Date | null {
    const until = schedule.endAt && schedule.endAt < at ? schedule.endAt : at;
    const floor = this.firstDue(schedule);
    if (until < floor) return null;
    // `around` answers the tick strictly before its instant: 1 ms later includes `until` itself.
    const { previous } = this.calendar.around({ ...schedule, startAt: floor }, new Date(until.getTime() + 1));
    return previous && previous >= floor ? previous : null;
  }

  private firstDue(schedule: ActionSchedule): Date {
    return schedule.startAt && schedule.startAt > schedule.createdAt ? schedule.startAt : schedule.createdAt;
  }
}
