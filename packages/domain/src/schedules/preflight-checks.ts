import { DependencyUnavailable, JobNotFound, ValidationFailedOnFlink } from '../shared/errors';
import type { Job } from '../jobs/job';
import type { Clock } from '../shared/clock';
import type { JobRepository } from '../jobs/job-repository';
import type { Logger } from '../shared/logger';
import type { CronCalendar } from './schedule-timer';
import type { WorkQueue } from '../shared/work-queue';
import type { PreflightCheck } from './schedule';

export interface PlanPreflightsDeps {
  queue: WorkQueue;
  calendar: CronCalendar;
  clock: Clock;
}

/**
 * Plans the check of a start schedule's next tick: a `preflight` message delayed until
 * `preflightMinutes` before it (at once when that moment has passed). One message per
 * (job, tick), so planning again is harmless; a tick already checked is not planned again.
 * Planned when the schedule is set, after each tick (for the next one), and by the
 * reconciler: never more than one tick ahead, so ticks closer together than
 * `preflightMinutes` are each checked right after the tick before.
 */
export class PlanPreflights {
  constructor(private readonly deps: PlanPreflightsDeps) {}

  /** The next tick after `after` (default now) is planned; answers it, or null when there is none to check. */
  async planNext(job: Job, after?: Date): Promise<Date | null> {
    const schedule = job.schedule;
    if (!schedule?.preflightMinutes || !job.enabled) return null;
    const now = this.deps.clock.now();
    const from = after && after > now ? after : now;
    const [next] = this.deps.calendar.nextRuns(schedule, from, 1);
    if (!next || schedule.preflight?.scheduledFor.getTime() === next.getTime()) return null;
    const checkAt = next.getTime() - schedule.preflightMinutes * 60_000;
    await this.deps.queue.enqueue(
      { kind: 'preflight', jobId: job.id, scheduledFor: next.getTime() },
      { delayMs: Math.max(0, checkAt - now.getTime()) },
    );
    return next;
  }
}

export interface RunPreflightDeps {
  jobs: JobRepository;
  /** ValidateOnFlink: uploads the JAR and has Flink build the plan, nothing submitted. */
  validation: { job(jobId: string): Promise<unknown> };
  clock: Clock;
  log: Logger;
}

/**
 * The check before a tick: the job's program on its cluster, as POST /validate checks it.
 * The outcome is kept with the schedule (seen before the tick) and copied onto the tick's
 * execution.
 */
export class RunPreflight {
  constructor(private readonly deps: RunPreflightDeps) {}

  async run(jobId: string, scheduledFor: Date): Promise<PreflightCheck | null> {
    const { jobs, validation, clock, log } = this.deps;
    const job = await jobs.get(jobId);
    if (!job?.schedule?.preflightMinutes || !job.enabled) return null;
    let check: PreflightCheck;
    try {
      await validation.job(jobId);
      check = { scheduledFor, checkedAt: clock.now(), ok: true, message: null };
    } catch (error) {
      if (error instanceof JobNotFound) return null;
      // Flink refused the program, or could not be asked: either way tonight's run is in doubt.
      if (!(error instanceof ValidationFailedOnFlink || error instanceof DependencyUnavailable)) throw error;
      check = { scheduledFor, checkedAt: clock.now(), ok: false, message: error.message };
    }
    await jobs.recordPreflight(jobId, check);
    const level = check.ok ? 'info' : 'warn';
    log[level]({ jobId, scheduledFor, ok: check.ok, reason: check.message }, 'preflight check before a tick');
    return check;
  }
}
