import type { ActionScheduleRepository } from './action-schedule-repository';
import type { Clock } from '../shared/clock';
import type { CronCalendar } from './schedule-timer';
import { JobStopWindows, type StopWindow } from './stop-window';

/** Reads a job's stop windows from its action schedules (one query). */
export class StopWindows {
  constructor(
    private readonly schedules: Pick<ActionScheduleRepository, 'listByJob'>,
    private readonly calendar: CronCalendar,
    private readonly clock: Clock,
  ) {}

  async forJob(jobId: string): Promise<JobStopWindows> {
    return new JobStopWindows(await this.schedules.listByJob(jobId), this.calendar);
  }

  /** The job's window open now, if any. */
  async openNow(jobId: string): Promise<StopWindow | null> {
    return (await this.forJob(jobId)).openAt(this.clock.now());
  }
}

/** How a tick or a decision names the window that held it. */
export function describeWindow(window: StopWindow): string {
  return `the job is in its stop window until ${window.endsAt.toISOString()} (opened by stop schedule ${window.stopScheduleId} at ${window.openedAt.toISOString()})`;
}
