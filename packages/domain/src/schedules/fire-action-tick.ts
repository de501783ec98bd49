import type { ActionSchedule } from './action-schedule';
import { DomainError, NoActiveExecution, NoRunningExecution } from '../shared/errors';
import type { ActionScheduleRepository } from './action-schedule-repository';
import type { Clock } from '../shared/clock';
import type { CronCalendar } from './schedule-timer';
import type { ExecutionRepository } from '../executions/execution-repository';
import type { JobRepository } from '../jobs/job-repository';
import type { Logger } from '../shared/logger';
import type { SavepointRepository } from '../savepoints/savepoint-repository';
import { failureText } from '../shared/failure-text';
import type { ManageSavepoints } from '../savepoints/manage-savepoints';
import type { QueueSubmission } from '../executions/queue-submission';
import type { RequestStop } from '../executions/request-stop';
import type { StopWindows } from './stop-windows';

export interface FireActionTickDeps {
  schedules: ActionScheduleRepository;
  jobs: JobRepository;
  executions: ExecutionRepository;
  savepoints: SavepointRepository;
  submissions: QueueSubmission;
  stops: RequestStop;
  savepointRequests: ManageSavepoints;
  windows: StopWindows;
  calendar: CronCalendar;
  clock: Clock;
  log: Logger;
  settings: { misfireGraceMs: number };
}

/** After an outage, the newest this many due ticks of a schedule get a row, the earlier ones a count. */
export const MAX_ACTION_CATCH_UP = 100;

type Result = { outcome: 'done' | 'skipped'; detail: string };

/**
 * One tick of an action schedule. The tick is claimed in PostgreSQL before its action
 * runs, so a tick delivered twice acts once; a tick with nothing to act on (no running
 * execution to stop or to save, an execution already active to start) is recorded SKIPPED
 * with the reason. A tick later than the misfire grace is recorded MISSED and not run,
 * except a stop tick whose stop window is still open: it acts late, and says so (a job
 * must not run through its maintenance window because a worker was down at 02:00).
 *
 * Every due tick gets a row: the ticks BullMQ never delivered (no worker ran, or one was
 * taken late and the scheduler skipped the ones in between) are found from the schedule's
 * last recorded tick, both when the next tick is delivered and by `sweep` (the chores).
 */
export class FireActionTick {
  constructor(private readonly deps: FireActionTickDeps) {}

  async run(scheduleId: string, scheduledFor: Date): Promise<void> {
    const schedule = await this.deps.schedules.get(scheduleId);
    // The timer outlived its schedule (deleted, or past endAt); the reconciler removes it.
    if (!schedule || (schedule.endAt && scheduledFor > schedule.endAt)) return;
    await this.catchUp(schedule, new Date(scheduledFor.getTime() - 1));
    await this.handle(schedule, scheduledFor, { delivered: true });
  }

  /**
   * The chores' part: every schedule's ticks that fell due longer ago than the grace and
   * have no row (dropped while no worker took ticks). Answers how many were handled.
   */
  async sweep(): Promise<number> {
    const { schedules, clock, log, settings } = this.deps;
    const until = new Date(clock.now().getTime() - settings.misfireGraceMs);
    let handled = 0;
    for (const schedule of await schedules.listAll()) {
      try {
        handled += await this.catchUp(schedule, until);
      } catch (error) {
        // One schedule that cannot be caught up now holds up no other; the next period retries.
        log.warn({ err: error, scheduleId: schedule.id }, 'action schedule ticks not caught up');
      }
    }
    return handled;
  }

  /** The due ticks after the schedule's last recorded one, up to `until` (inclusive), oldest first. */
  private async catchUp(schedule: ActionSchedule, until: Date): Promise<number> {
    const since = new Date(Math.max(schedule.lastRunAt?.getTime() ?? 0, schedule.createdAt.getTime()));
    const end = schedule.endAt && schedule.endAt < until ? schedule.endAt : until;
    if (since >= end) return 0;
    const due = this.deps.calendar.latestRunsBetween(schedule, since, end, MAX_ACTION_CATCH_UP);
    for (const [i, tick] of due.runs.entries()) {
      const n = due.earlier;
      const note =
        i === 0 && n > 0
          ? ` …and ${due.earlierExact ? '' : 'about '}${n} earlier tick${n === 1 ? '' : 's'} not recorded (cap ${MAX_ACTION_CATCH_UP}).`
          : '';
      await this.handle(schedule, tick, { delivered: false, note });
    }
    return due.runs.length;
  }

  /** One due tick: acted on within the grace (or late, a stop in its open window), else recorded MISSED. */
  private async handle(
    schedule: ActionSchedule,
    scheduledFor: Date,
    how: { delivered: boolean; note?: string },
  ): Promise<void> {
    const { schedules, clock, settings } = this.deps;
    const note = how.note ?? '';
    const lateMs = clock.now().getTime() - scheduledFor.getTime();
    if (lateMs <= settings.misfireGraceMs) return this.actOnce(schedule, scheduledFor, note);
    const lateS = Math.round(lateMs / 1000);
    const graceS = Math.round(settings.misfireGraceMs / 1000);
    let why = '';
    if (schedule.action === 'stop') {
      const window = (await this.deps.windows.forJob(schedule.jobId)).windowOf(schedule.id, scheduledFor);
      if (window && clock.now() < window.endsAt) {
        const late = ` Acted ${lateS} s late (grace ${graceS} s): its stop window is open until ${window.endsAt.toISOString()}.`;
        return this.actOnce(schedule, scheduledFor, late + note);
      }
      if (window) why = `: its stop window ended at ${window.endsAt.toISOString()}`;
    }
    const detail = how.delivered
      ? `Tick fired ${lateS} s late (grace ${graceS} s); not run${why}.`
      : `Tick not delivered by the timer (no worker took ticks, or one was taken late); noticed ${lateS} s late (grace ${graceS} s); not run${why}.`;
    await schedules.recordTick(schedule.id, scheduledFor, 'missed', detail + note);
  }

  /** Claims the tick, runs its action and records what it did; `suffix` ends the detail. */
  private async actOnce(schedule: ActionSchedule, scheduledFor: Date, suffix: string): Promise<void> {
    const { schedules, jobs, log } = this.deps;
    if (!(await schedules.claimTick(schedule.id, scheduledFor))) return;
    const tickLog = log.child({ scheduleId: schedule.id, jobId: schedule.jobId, action: schedule.action });
    let result: Result;
    try {
      const job = await jobs.get(schedule.jobId);
      result = !job?.enabled
        ? { outcome: 'skipped', detail: 'The job is disabled.' }
        : await this.act(schedule, scheduledFor);
    } catch (error) {
      tickLog.warn({ err: error }, 'scheduled action failed');
      await schedules.settleTick(schedule.id, scheduledFor, 'failed', failureText(error) + suffix);
      return;
    }
    await schedules.settleTick(schedule.id, scheduledFor, result.outcome, result.detail + suffix);
    tickLog.info({ outcome: result.outcome, scheduledFor }, result.detail + suffix);
  }

  private async act(schedule: ActionSchedule, scheduledFor: Date): Promise<Result> {
    switch (schedule.action) {
      case 'start':
        return this.start(schedule, scheduledFor);
      case 'stop':
        return this.stop(schedule);
      case 'savepoint':
        return this.savepoint(schedule);
    }
  }

  private async start(schedule: ActionSchedule, scheduledFor: Date): Promise<Result> {
    const latest =
      schedule.options.restoreFrom === 'latest-savepoint'
        ? await this.deps.savepoints.latestRestorable(schedule.jobId)
        : null;
    const outcome = await this.deps.executions.insert(
      {
        jobId: schedule.jobId,
        trigger: 'schedule',
        status: 'QUEUED',
        parallelism: null,
        savepointPath: latest?.location ?? null,
        savepointId: latest?.id ?? null,
        allowNonRestoredState: false,
        scheduledFor,
      },
      { exclusive: true },
    );
    switch (outcome.kind) {
      case 'created': {
        await this.deps.submissions.run(outcome.execution);
        const from = latest
          ? ` from savepoint ${latest.id}`
          : schedule.options.restoreFrom
            ? ' without state (the job has no savepoint)'
            : '';
        return { outcome: 'done', detail: `Started execution ${outcome.execution.id}${from}.` };
      }
      case 'active':
        return {
          outcome: 'skipped',
          detail: `Not started: execution ${outcome.active.id} is still ${outcome.active.status}.`,
        };
      case 'duplicate_tick':
        return { outcome: 'skipped', detail: 'Another schedule of the job started an execution at this instant.' };
      case 'savepoint_disposed':
        return { outcome: 'skipped', detail: `Not started: savepoint ${latest?.id} was disposed of meanwhile.` };
      default:
        return { outcome: 'skipped', detail: 'The job is gone.' };
    }
  }

  private async stop(schedule: ActionSchedule): Promise<Result> {
    const savepoint = schedule.options.savepoint ?? true;
    try {
      const stopped = await this.deps.stops.forJob(schedule.jobId, {
        savepoint,
        drain: schedule.options.drain ?? false,
      });
      return {
        outcome: 'done',
        detail: `Stop${savepoint ? ' with a savepoint' : ''} asked of execution ${stopped.id}.`,
      };
    } catch (error) {
      if (error instanceof NoActiveExecution) return { outcome: 'skipped', detail: 'Nothing was running.' };
      if (error instanceof DomainError) return { outcome: 'skipped', detail: error.message };
      throw error;
    }
  }

  private async savepoint(schedule: ActionSchedule): Promise<Result> {
    try {
      const taken = await this.deps.savepointRequests.take(schedule.jobId, 'periodic');
      return { outcome: 'done', detail: `Savepoint ${taken.id} asked of execution ${taken.executionId}.` };
    } catch (error) {
      if (error instanceof NoRunningExecution) return { outcome: 'skipped', detail: 'Nothing was running.' };
      throw error;
    }
  }
}
