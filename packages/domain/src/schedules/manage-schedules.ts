import { InvalidSchedule, JobNotFound } from '../shared/errors';
import type { Job } from '../jobs/job';
import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import type { JobRepository } from '../jobs/job-repository';
import type { CronCalendar, ScheduleTimer } from './schedule-timer';
import { replaceModeOf, type ScheduleInput } from './schedule';
import type { PlanPreflights } from './preflight-checks';
import { reconcileTimers, type TimerCounts } from './reconcile-timers';

/**
 * The one writer of schedule timers. PostgreSQL holds the schedule; the timer (BullMQ's
 * job scheduler) is transport and is rebuilt from PostgreSQL by `reconcile`.
 */
export interface ManageSchedulesDeps {
  jobs: JobRepository;
  timer: ScheduleTimer;
  calendar: CronCalendar;
  clock: Clock;
  log: Logger;
  /** Plans the check before the next tick of a schedule with `preflightMinutes`. */
  preflights?: PlanPreflights;
}

export class ManageSchedules {
  private readonly jobs: JobRepository;
  private readonly timer: ScheduleTimer;
  private readonly calendar: CronCalendar;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly preflights?: PlanPreflights;

  constructor(deps: ManageSchedulesDeps) {
    ({
      jobs: this.jobs,
      timer: this.timer,
      calendar: this.calendar,
      clock: this.clock,
      log: this.log,
      preflights: this.preflights,
    } = deps);
  }

  validate(schedule: ScheduleInput): void {
    this.calendar.validate(schedule.cron, schedule.timezone);
    if (schedule.startAt && schedule.endAt && schedule.endAt <= schedule.startAt) {
      throw new InvalidSchedule('endAt', 'must be later than startAt');
    }
    if (schedule.replace && schedule.overlap !== 'replace') {
      throw new InvalidSchedule(
        'replace',
        `"replace" applies only with "overlap": "replace" (overlap is "${schedule.overlap}")`,
      );
    }
  }

  /** With `expectedVersion`, a job changed since that version is left alone (JobModified). */
  async set(jobId: string, schedule: ScheduleInput, expectedVersion?: number): Promise<Job> {
    this.validate(schedule);
    const job = await this.jobs.setSchedule(jobId, { ...schedule, replace: replaceModeOf(schedule) }, expectedVersion);
    if (!job) throw new JobNotFound(jobId);
    await this.syncTimer(job);
    await this.planPreflight(job);
    return job;
  }

  async remove(jobId: string, expectedVersion?: number): Promise<void> {
    const job = await this.jobs.setSchedule(jobId, null, expectedVersion);
    if (!job) throw new JobNotFound(jobId);
    await this.dropTimer(jobId);
  }

  async listScheduled(): Promise<Job[]> {
    return this.jobs.listScheduled();
  }

  nextRuns(job: Job, from: Date, count = 5): Date[] {
    if (!job.schedule) return [];
    return this.calendar.nextRuns(job.schedule, from, count);
  }

  /**
   * A timer runs only for an enabled job with a schedule that has not ended (BullMQ refuses
   * a scheduler whose end date is past, and it would have nothing to fire).
   */
  private wantsTimer(job: Job): boolean {
    const endAt = job.schedule?.endAt;
    return job.schedule !== null && job.enabled && !(endAt && endAt <= this.clock.now());
  }

  async syncTimer(job: Job): Promise<void> {
    try {
      if (job.schedule && this.wantsTimer(job)) await this.timer.upsert(job.id, job.schedule);
      else await this.timer.remove(job.id);
    } catch (error) {
      // PostgreSQL already holds the change; the reconciler brings the timer in line.
      this.log.warn({ err: error, jobId: job.id }, 'schedule timer not updated; the reconciler will retry');
    }
  }

  /** Plans the check before the next tick; the reconciler plans it when this fails. */
  async planPreflight(job: Job): Promise<void> {
    try {
      await this.preflights?.planNext(job);
    } catch (error) {
      this.log.warn({ err: error, jobId: job.id }, 'preflight check not planned; the reconciler will retry');
    }
  }

  async dropTimer(jobId: string): Promise<void> {
    try {
      await this.timer.remove(jobId);
    } catch (error) {
      this.log.warn({ err: error, jobId }, 'schedule timer not removed; the reconciler will retry');
    }
  }

  /** Makes the timers match PostgreSQL, and plans the checks before the next ticks. */
  async reconcile(): Promise<TimerCounts> {
    const wanted = new Map((await this.jobs.listScheduled()).filter((j) => this.wantsTimer(j)).map((j) => [j.id, j]));
    for (const job of wanted.values()) if (job.schedule?.preflightMinutes) await this.planPreflight(job);
    const schedules = new Map(
      [...wanted].flatMap(([id, job]) => (job.schedule ? [[id, { ...job.schedule, jobId: id }] as const] : [])),
    );
    return reconcileTimers({
      wanted: schedules,
      existing: await this.timer.list(),
      upsert: (jobId, schedule) => this.timer.upsert(jobId, schedule),
      remove: (jobId) => this.timer.remove(jobId),
      stillWanted: async (jobId) => {
        const fresh = await this.jobs.get(jobId);
        return fresh !== null && this.wantsTimer(fresh);
      },
      log: this.log,
    });
  }
}
