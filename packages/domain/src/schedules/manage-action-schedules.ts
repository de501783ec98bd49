import type { ActionSchedule, NewActionSchedule, ScheduleTick } from './action-schedule';
import { InvalidSchedule, JobNotFound, ScheduleNotFound } from '../shared/errors';
import type { ActionScheduleRepository } from './action-schedule-repository';
import type { Clock } from '../shared/clock';
import type { JobRepository } from '../jobs/job-repository';
import type { Logger } from '../shared/logger';
import type { ActionTimer, CronCalendar } from './schedule-timer';
import { reconcileTimers, type TimerCounts } from './reconcile-timers';

export interface ManageActionSchedulesDeps {
  jobs: JobRepository;
  schedules: ActionScheduleRepository;
  timer: ActionTimer;
  calendar: CronCalendar;
  clock: Clock;
  log: Logger;
}

/** A schedule as the API shows it: with its next fire times and what its last ticks did. */
export interface ActionScheduleDetail {
  schedule: ActionSchedule;
  nextRuns: Date[];
  recentTicks: ScheduleTick[];
}

/** How many of a schedule's latest ticks its view shows. */
const RECENT_TICKS = 10;

/**
 * A job's schedules besides its start schedule, each with an action. PostgreSQL holds them;
 * the timers (BullMQ job schedulers) are transport, rebuilt from PostgreSQL by `reconcile`.
 */
export class ManageActionSchedules {
  constructor(private readonly deps: ManageActionSchedulesDeps) {}

  async create(schedule: NewActionSchedule): Promise<ActionScheduleDetail> {
    this.deps.calendar.validate(schedule.cron, schedule.timezone);
    if (schedule.startAt && schedule.endAt && schedule.endAt <= schedule.startAt)
      throw new InvalidSchedule('endAt', 'must be later than startAt');
    if (
      schedule.action !== 'stop' &&
      (schedule.options.savepoint !== undefined || schedule.options.drain !== undefined)
    )
      throw new InvalidSchedule('savepoint', '"savepoint" and "drain" apply only to "action": "stop"');
    if (schedule.action !== 'start' && schedule.options.restoreFrom)
      throw new InvalidSchedule('restoreFrom', '"restoreFrom" applies only to "action": "start"');
    const created = await this.deps.schedules.create(schedule);
    if (!created) throw new JobNotFound(schedule.jobId);
    await this.syncTimer(created);
    return this.detail(created, []);
  }

  async list(jobId: string): Promise<ActionScheduleDetail[]> {
    if (!(await this.deps.jobs.get(jobId))) throw new JobNotFound(jobId);
    const schedules = await this.deps.schedules.listByJob(jobId);
    const ticks = await this.deps.schedules.recentTicks(
      schedules.map((s) => s.id),
      RECENT_TICKS,
    );
    return schedules.map((s) => this.detail(s, ticks.get(s.id) ?? []));
  }

  async get(jobId: string, id: string): Promise<ActionScheduleDetail> {
    const schedule = await this.deps.schedules.get(id);
    if (!schedule || schedule.jobId !== jobId) {
      if (!(await this.deps.jobs.get(jobId))) throw new JobNotFound(jobId);
      throw new ScheduleNotFound(jobId, id);
    }
    const ticks = await this.deps.schedules.recentTicks([id], RECENT_TICKS);
    return this.detail(schedule, ticks.get(id) ?? []);
  }

  async delete(jobId: string, id: string): Promise<void> {
    if (!(await this.deps.schedules.delete(jobId, id))) {
      if (!(await this.deps.jobs.get(jobId))) throw new JobNotFound(jobId);
      throw new ScheduleNotFound(jobId, id);
    }
    try {
      await this.deps.timer.remove(id);
    } catch (error) {
      this.deps.log.warn({ err: error, scheduleId: id }, 'schedule timer not removed; the reconciler will retry');
    }
  }

  /** Makes the timers match PostgreSQL: creates missing ones, fixes changed ones, removes orphans. */
  async reconcile(): Promise<TimerCounts> {
    const all = await this.deps.schedules.listAll();
    return reconcileTimers({
      wanted: new Map(all.filter((s) => this.wantsTimer(s)).map((s) => [s.id, s])),
      existing: await this.deps.timer.list(),
      upsert: (_id, schedule) => this.deps.timer.upsert(schedule),
      remove: (id) => this.deps.timer.remove(id),
      stillWanted: async (id) => (await this.deps.schedules.get(id)) !== null,
      log: this.deps.log,
    });
  }

  private detail(schedule: ActionSchedule, recentTicks: ScheduleTick[]): ActionScheduleDetail {
    return { schedule, nextRuns: this.deps.calendar.nextRuns(schedule, this.deps.clock.now(), 5), recentTicks };
  }

  /** BullMQ refuses a scheduler whose end date is past, and it would have nothing to fire. */
  private wantsTimer(schedule: ActionSchedule): boolean {
    return !(schedule.endAt && schedule.endAt <= this.deps.clock.now());
  }

  private async syncTimer(schedule: ActionSchedule): Promise<void> {
    try {
      if (this.wantsTimer(schedule)) await this.deps.timer.upsert(schedule);
    } catch (error) {
      // PostgreSQL already holds it; the reconciler brings the timer in line.
      this.deps.log.warn({ err: error, scheduleId: schedule.id }, 'schedule timer not set; the reconciler will retry');
    }
  }
}
