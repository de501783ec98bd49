import type { Job } from '../job';
import type { ExecutionRepository, InsertOutcome, NewExecution } from '../ports/execution-repository';
import type { JobRepository } from '../ports/job-repository';
import type { Clock, Logger } from '../ports/runtime';
import type { CronCalendar } from '../ports/schedule-timer';
import type { Schedule } from '../schedule';
import type { ExecutionControl } from './execution-control';

export interface TickSettings {
  /** A tick later than this is recorded as MISSED instead of run. */
  misfireGraceMs: number;
  /** `replace` asks for a savepoint when a savepoint directory is configured. */
  savepointOnReplace: boolean;
  /** How long `replace` waits for the old execution to end before starting the new one. */
  replaceWaitMs: number;
}

/** A grace of hours on a per-second cron must not turn one tick into thousands of rows. */
const MAX_CATCH_UP = 100;

export interface TickObserver {
  lateness(seconds: number): void;
  outcome(kind: 'started' | 'skipped' | 'missed' | 'duplicate' | 'ignored'): void;
}

/**
 * One schedule tick. The (job, scheduledFor) unique key makes a tick delivered twice
 * (a stalled BullMQ job, a retry, two workers) create one execution only.
 */
export class FireScheduleTick {
  constructor(
    private readonly jobs: JobRepository,
    private readonly executions: ExecutionRepository,
    private readonly control: ExecutionControl,
    private readonly calendar: CronCalendar,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly settings: TickSettings,
    private readonly observer?: TickObserver,
  ) {}

  async run(jobId: string, scheduledFor: Date): Promise<void> {
    const job = await this.jobs.get(jobId);
    if (!job?.schedule || !job.enabled) {
      // The timer outlived its schedule; the reconciler removes it.
      this.observer?.outcome('ignored');
      return;
    }
    const dropped = job.schedule.overlap === 'replace' ? [] : this.droppedBefore(job, job.schedule, scheduledFor);
    for (const tick of [...dropped, scheduledFor]) await this.fire(job, job.schedule, tick);
  }

  /**
   * Ticks BullMQ never delivered. It computes a scheduler's next fire time from when the
   * last tick was taken, so a tick taken late makes it drop the ones in between (about
   * 6 % of the ticks of 500 per-second schedules on a busy machine). Those still within
   * the misfire grace run now, in order, ahead of this one. Ticks from before the schedule
   * or the job last changed (a pause, a new cron) were never due. `replace` has nothing to
   * catch up: only the newest tick would survive.
   */
  private droppedBefore(job: Job, schedule: Schedule, tick: Date): Date[] {
    const since = Math.max(
      schedule.lastRunAt?.getTime() ?? 0,
      job.updatedAt.getTime(),
      this.clock.now().getTime() - this.settings.misfireGraceMs,
    );
    if (since >= tick.getTime()) return [];
    return this.calendar.runsBetween(schedule, new Date(since), tick, MAX_CATCH_UP);
  }

  private async fire(job: Job, schedule: Schedule, scheduledFor: Date): Promise<void> {
    const log = this.log.child({ jobId: job.id, scheduledFor: scheduledFor.toISOString() });
    const lateMs = this.clock.now().getTime() - scheduledFor.getTime();
    this.observer?.lateness(lateMs / 1000);
    const tick: NewExecution = {
      jobId: job.id,
      trigger: 'schedule',
      status: 'QUEUED',
      parallelism: job.parallelism,
      savepointPath: null,
      allowNonRestoredState: false,
      scheduledFor,
    };
    if (lateMs > this.settings.misfireGraceMs) {
      await this.record(
        {
          ...tick,
          status: 'MISSED',
          errorMessage: `Tick fired ${Math.round(lateMs / 1000)} s late (grace ${this.settings.misfireGraceMs / 1000} s); not run.`,
        },
        'missed',
        log,
      );
      return;
    }
    if (schedule.overlap === 'replace') {
      await this.jobs.markScheduleRun(job.id, scheduledFor);
      await this.replaceActive(job.id, log);
      const outcome = await this.executions.insert(tick, { exclusive: false });
      return this.started(outcome, log);
    }
    // skip and allow: one transaction decides QUEUED or SKIPPED, so a busy minute of
    // ticks costs one round of queries each.
    const outcome = await this.executions.insertTick(
      { ...tick, scheduledFor },
      { skipIfActive: schedule.overlap === 'skip' },
    );
    if (outcome.kind === 'created' && outcome.execution.status === 'SKIPPED') {
      this.observer?.outcome('skipped');
      // The SKIPPED row and the ticks metric record it; at info, a busy schedule floods the log.
      log.debug({ reason: outcome.execution.errorMessage }, 'schedule tick skipped');
      return;
    }
    return this.started(outcome, log);
  }

  private async started(outcome: InsertOutcome, log: Logger): Promise<void> {
    switch (outcome.kind) {
      case 'created':
        await this.control.enqueueOrDiscard(outcome.execution);
        this.observer?.outcome('started');
        log.info({ executionId: outcome.execution.id }, 'schedule tick started an execution');
        return;
      case 'duplicate_tick':
        this.observer?.outcome('duplicate');
        log.info({}, 'tick delivered again; already handled');
        return;
      case 'active':
      case 'job_missing':
        this.observer?.outcome('ignored');
        return;
    }
  }

  private async record(tick: NewExecution, kind: 'missed' | 'skipped', log: Logger): Promise<void> {
    const outcome = await this.executions.insert(tick, { exclusive: false });
    this.observer?.outcome(outcome.kind === 'created' ? kind : 'duplicate');
    if (outcome.kind === 'created') log.info({ reason: tick.errorMessage }, `schedule tick ${kind}`);
  }

  private async replaceActive(jobId: string, log: Logger): Promise<void> {
    const active = await this.executions.findActive(jobId);
    if (active.length === 0) return;
    for (const execution of active) {
      await this.control.stopExecution(execution, { savepoint: this.settings.savepointOnReplace });
    }
    const deadline = Date.now() + this.settings.replaceWaitMs;
    while (Date.now() < deadline && (await this.executions.findActive(jobId)).length > 0) {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    log.info({ replaced: active.map((e) => e.id) }, 'overlap=replace: previous execution stopped');
  }
}
