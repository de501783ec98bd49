import { isTerminal, type Execution } from '../executions/execution';
import type { Job } from '../jobs/job';
import type { Clock } from '../shared/clock';
import type { ExecutionRepository, InsertOutcome, NewExecution } from '../executions/execution-repository';
import type { JobRepository } from '../jobs/job-repository';
import type { Logger } from '../shared/logger';
import type { CronCalendar, LatestRuns } from './schedule-timer';
import type { TickDispatch } from './tick-dispatch';
import { DEFAULT_REPLACE_MODE, type ReplaceMode, type Schedule } from './schedule';
import { MAX_CATCH_UP, MAX_NOT_RUN_ROWS, planTicks, type TickPlan } from './tick-plan';
import type { PlanPreflights } from './preflight-checks';
import { describeWindow, type StopWindows } from './stop-windows';
import type { JobStopWindows } from './stop-window';

export interface TickSettings {
  /** A tick later than this is recorded as MISSED instead of run. */
  misfireGraceMs: number;
  /** How long `replace` waits for the old execution to end on Flink before it records the tick SKIPPED. */
  replaceWaitMs: number;
}

const REPLACE_POLL_MS = 250;
/** Jobs whose ticks `fireKnown` serves from memory, per worker; past this, the oldest is dropped. */
const MAX_KNOWN_JOBS = 10_000;

export type TickOutcome = 'started' | 'skipped' | 'missed' | 'duplicate' | 'ignored';

export interface TickObserver {
  lateness(seconds: number): void;
  /** `count` ticks had this outcome (one, unless a batch of ticks that did not run was recorded). */
  outcome(kind: TickOutcome, count?: number): void;
}

/**
 * One schedule tick. The (job, scheduledFor) unique key makes a tick delivered twice
 * (a stalled BullMQ job, a retry, two workers) create one execution only.
 */
export interface FireScheduleTickDeps {
  jobs: JobRepository;
  executions: ExecutionRepository;
  dispatch: TickDispatch;
  calendar: CronCalendar;
  clock: Clock;
  log: Logger;
  settings: TickSettings;
  observer?: TickObserver;
  /** Plans the check before the next tick, for a schedule with `preflightMinutes`. */
  preflights?: PlanPreflights;
  /** The job's stop windows: a tick inside one is SKIPPED. */
  windows?: StopWindows;
}

export class FireScheduleTick {
  private readonly jobs: JobRepository;
  private readonly executions: ExecutionRepository;
  private readonly dispatch: TickDispatch;
  private readonly calendar: CronCalendar;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly settings: TickSettings;
  private readonly observer?: TickObserver;
  private readonly preflights?: PlanPreflights;
  private readonly windows?: StopWindows;
  private readonly known = new Map<string, Job>();

  constructor(deps: FireScheduleTickDeps) {
    ({
      jobs: this.jobs,
      executions: this.executions,
      dispatch: this.dispatch,
      calendar: this.calendar,
      clock: this.clock,
      log: this.log,
      settings: this.settings,
      observer: this.observer,
      preflights: this.preflights,
      windows: this.windows,
    } = deps);
  }

  async run(jobId: string, scheduledFor: Date): Promise<void> {
    // One query for the job's action schedules; a tick inside a stop window takes the full path.
    const windows = this.windows ? await this.windows.forJob(jobId) : null;
    if (!windows?.openAt(scheduledFor) && (await this.fireKnown(jobId, scheduledFor))) return;
    const job = await this.jobs.get(jobId);
    this.remember(jobId, job);
    const schedule = job?.schedule;
    if (!job || !schedule || !job.enabled || (schedule.endAt && scheduledFor > schedule.endAt)) {
      // The timer outlived its schedule (removed, paused, past endAt); the reconciler removes it.
      this.observer?.outcome('ignored');
      return;
    }
    const now = this.clock.now();
    const plan = holdInWindows(
      planTicks({
        delivered: scheduledFor,
        now,
        misfireGraceMs: this.settings.misfireGraceMs,
        overlap: schedule.overlap,
        lastRunAt: schedule.lastRunAt,
        ...this.dueSince(job, schedule, now),
      }),
      windows,
    );
    if (!plan.run.some((t) => t.getTime() === scheduledFor.getTime())) {
      this.observer?.lateness((now.getTime() - scheduledFor.getTime()) / 1000);
    }
    if (plan.notRun.length > 0) await this.recordNotRun(job, plan, scheduledFor);
    for (const tick of plan.run) await this.fire(job, schedule, tick);
    if (schedule.preflightMinutes) await this.planNextCheck(job, scheduledFor);
  }

  /**
   * The common tick in one round trip: the job as this worker last read it, the tick on
   * time, and no other tick due since the schedule's last one, so the plan is "run this
   * tick" without reading anything. The insert checks under the job row lock that the job
   * is still that version (any change of definition, schedule or enabled bumps it) and
   * that no tick was left behind; when not, it writes nothing and the tick takes the full
   * path (read, plan, insert), which covers catch-up, replace and checks before ticks.
   */
  private async fireKnown(jobId: string, scheduledFor: Date): Promise<boolean> {
    const job = this.known.get(jobId);
    const schedule = job?.schedule;
    if (!job || !schedule) return false;
    const now = this.clock.now();
    if (now.getTime() - scheduledFor.getTime() > this.settings.misfireGraceMs) return false;
    const { previous, next } = this.calendar.around(schedule, scheduledFor);
    if (next && next <= now) return false; // a newer tick is due too: the plan decides
    if (schedule.startAt && scheduledFor < schedule.startAt) return false;
    const outcome = await this.executions.insertExpectedTick(this.tickOf(job, schedule, scheduledFor), {
      skipIfActive: schedule.overlap === 'skip',
      expect: { version: job.version, previousTick: previous },
    });
    if (outcome.kind === 'stale') {
      this.known.delete(jobId);
      return false;
    }
    const log = this.log.child({ jobId, scheduledFor: scheduledFor.toISOString() });
    this.observer?.lateness((now.getTime() - scheduledFor.getTime()) / 1000);
    await this.inserted(outcome, log);
    return true;
  }

  /** Kept for `fireKnown` while the one-round-trip path can serve its ticks. */
  private remember(jobId: string, job: Job | null): void {
    this.known.delete(jobId);
    const schedule = job?.schedule;
    if (!job || !schedule || !job.enabled || schedule.overlap === 'replace') return;
    // A check before each tick, or one recorded for a tick to come, takes the full path.
    if (schedule.preflightMinutes || schedule.preflight) return;
    if (schedule.endAt) return; // rare, and its end is the plan's to apply
    if (this.known.size >= MAX_KNOWN_JOBS) this.known.delete(this.known.keys().next().value as string);
    this.known.set(jobId, job);
  }

  /** The next tick's check; the reconciler plans it when this fails. */
  private async planNextCheck(job: Job, after: Date): Promise<void> {
    try {
      await this.preflights?.planNext(job, after);
    } catch (error) {
      this.log.warn({ err: error, jobId: job.id }, 'preflight check not planned; the reconciler will retry');
    }
  }

  /**
   * The newest ticks due since the schedule's last tick or the job's last change, whichever
   * is later (ticks from before a pause or a new cron were never due), up to now or endAt.
   */
  private dueSince(job: Job, schedule: Schedule, now: Date): { since: Date; due: LatestRuns } {
    const since = new Date(Math.max(schedule.lastRunAt?.getTime() ?? 0, job.updatedAt.getTime()));
    const until = schedule.endAt && schedule.endAt < now ? schedule.endAt : now;
    const due =
      since < until
        ? this.calendar.latestRunsBetween(schedule, since, until, MAX_NOT_RUN_ROWS + MAX_CATCH_UP)
        : { runs: [], earlier: 0, earlierExact: true };
    return { since, due };
  }

  private async recordNotRun(job: Job, plan: TickPlan, delivered: Date): Promise<void> {
    const inserted = await this.executions.insertNotRun(job.id, job.parallelism, plan.notRun);
    const missed = inserted.filter((t) => t.status === 'MISSED').length;
    const skipped = inserted.length - missed;
    if (missed > 0) this.observer?.outcome('missed', missed);
    if (skipped > 0) this.observer?.outcome('skipped', skipped);
    const deliveredRecorded = plan.notRun.some((t) => t.scheduledFor.getTime() === delivered.getTime());
    if (deliveredRecorded && !inserted.some((t) => t.scheduledFor.getTime() === delivered.getTime())) {
      this.observer?.outcome('duplicate');
    }
    if (inserted.length === 0) return;
    this.log.info(
      {
        jobId: job.id,
        missed,
        skipped,
        notRecorded: plan.notRecorded,
        from: inserted[0]?.scheduledFor.toISOString(),
        to: inserted[inserted.length - 1]?.scheduledFor.toISOString(),
      },
      'schedule ticks recorded as not run',
    );
  }

  private tickOf(job: Job, schedule: Schedule, scheduledFor: Date): NewExecution & { scheduledFor: Date } {
    return {
      jobId: job.id,
      trigger: 'schedule',
      status: 'QUEUED',
      parallelism: null, // the job's, read in the same statement as the rest of the definition
      savepointPath: null,
      allowNonRestoredState: false,
      scheduledFor,
      // The check run before this tick, when there was one: a failed one is recorded on it.
      preflight: schedule.preflight?.scheduledFor.getTime() === scheduledFor.getTime() ? schedule.preflight : null,
    };
  }

  private async fire(job: Job, schedule: Schedule, scheduledFor: Date): Promise<void> {
    const log = this.log.child({ jobId: job.id, scheduledFor: scheduledFor.toISOString() });
    this.observer?.lateness((this.clock.now().getTime() - scheduledFor.getTime()) / 1000);
    const tick = this.tickOf(job, schedule, scheduledFor);
    if (schedule.overlap === 'replace') {
      return this.replace(job, schedule.replace ?? DEFAULT_REPLACE_MODE, tick, scheduledFor, log);
    }
    // skip and allow: one transaction decides QUEUED or SKIPPED, so a busy minute of
    // ticks costs one round of queries each.
    const outcome = await this.executions.insertTick(tick, { skipIfActive: schedule.overlap === 'skip' });
    return this.inserted(outcome, log);
  }

  /** A skip-or-allow tick's row written: counted, and a QUEUED one sent to the workers. */
  private async inserted(outcome: InsertOutcome, log: Logger): Promise<void> {
    if (outcome.kind === 'created' && outcome.execution.status === 'SKIPPED') {
      this.observer?.outcome('skipped');
      // The SKIPPED row and the ticks metric record it; at info, a busy schedule floods the log.
      log.debug({ reason: outcome.execution.errorMessage }, 'schedule tick skipped');
      return;
    }
    return this.started(outcome, log);
  }

  /**
   * `replace`: the running execution ends on Flink (cancelled, or stopped with a savepoint
   * the new one restores from) before the new one is queued, so a definition never has two
   * Flink jobs. When it does not end in time, its stop fails, or (`savepoint`) it ends
   * without a savepoint to restore from, the tick is SKIPPED.
   */
  private async replace(
    job: Job,
    mode: ReplaceMode,
    tick: NewExecution,
    scheduledFor: Date,
    log: Logger,
  ): Promise<void> {
    // A tick delivered again (its worker died after starting the new execution) must not
    // take the execution it created itself for the old one and stop it.
    if (await this.executions.findTick(job.id, scheduledFor)) {
      this.observer?.outcome('duplicate');
      log.info({}, 'tick delivered again; already handled');
      return;
    }
    await this.jobs.markScheduleRun(job.id, scheduledFor);
    const way = await this.clearWay(job.id, scheduledFor, mode, log);
    if (way.kind === 'handled') {
      this.observer?.outcome('duplicate');
      log.info({}, 'tick delivered again; already handled');
      return;
    }
    if (way.kind === 'blocked') {
      await this.record({ ...tick, status: 'SKIPPED', errorMessage: way.reason }, log);
      return;
    }
    // Exclusive: whatever became active meanwhile (a manual start, this tick on another
    // worker) wins, and this tick is SKIPPED rather than a second Flink job started.
    const outcome = await this.executions.insert({ ...tick, savepointPath: way.savepointPath }, { exclusive: true });
    if (outcome.kind === 'active') {
      const { id, status } = outcome.active;
      await this.record(
        { ...tick, status: 'SKIPPED', errorMessage: `Skipped: execution ${id} is still ${status}.` },
        log,
      );
      return;
    }
    return this.started(outcome, log);
  }

  /** Stops every active execution of the job and waits until all have ended. */
  private async clearWay(
    jobId: string,
    scheduledFor: Date,
    mode: ReplaceMode,
    log: Logger,
  ): Promise<
    { kind: 'clear'; savepointPath: string | null } | { kind: 'blocked'; reason: string } | { kind: 'handled' }
  > {
    const active = await this.executions.findActive(jobId);
    // The same tick delivered at once to another worker got there first: its execution
    // is this tick's, and stopping it would leave the schedule with nothing running.
    if (active.some((e) => e.scheduledFor?.getTime() === scheduledFor.getTime())) return { kind: 'handled' };
    const savepoint = mode === 'savepoint';
    if (active.length === 0) return { kind: 'clear', savepointPath: savepoint ? await this.leftState(jobId) : null };
    for (const execution of active) await this.dispatch.stop(execution, { savepoint });
    const waitS = this.settings.replaceWaitMs / 1000;
    const deadline = this.clock.now().getTime() + this.settings.replaceWaitMs;
    for (;;) {
      const current = (await Promise.all(active.map((e) => this.executions.get(e.id)))).filter(
        (e): e is Execution => e !== null,
      );
      // Only a failed stop leads from STOPPING back to RUNNING: the Flink job still runs.
      const back = current.find((e) => e.status === 'RUNNING');
      if (back) {
        return {
          kind: 'blocked',
          reason: `Skipped: ${savepoint ? 'the stop with a savepoint' : 'the cancel'} of execution ${back.id} failed and it is still RUNNING (${back.errorMessage ?? 'no reason given'}); no second Flink job is started.`,
        };
      }
      const pending = current.find((e) => !isTerminal(e.status));
      if (!pending) {
        log.info({ replaced: active.map((e) => e.id), mode }, 'overlap=replace: previous execution ended');
        return savepoint ? this.restorePoint(active, current, log) : { kind: 'clear', savepointPath: null };
      }
      const left = deadline - this.clock.now().getTime();
      if (left <= 0) {
        return {
          kind: 'blocked',
          reason: `Skipped: execution ${pending.id} was still ${pending.status} ${waitS} s after it was asked to ${savepoint ? 'stop with a savepoint' : 'cancel'}; no second Flink job is started.`,
        };
      }
      await this.clock.sleep(Math.min(REPLACE_POLL_MS, left));
    }
  }

  /**
   * Nothing to replace: the state the job's last run left, when it was stopped with a
   * savepoint. That run may have been stopped a moment ago by this very tick delivered twice
   * at once (the other delivery stopped it); or by hand, or by a stop window: `savepoint`
   * carries a job's state from run to run either way. A run cancelled, failed or finished
   * left none, and the new one starts without.
   */
  private async leftState(jobId: string): Promise<string | null> {
    const recent = await this.executions.listByJob(jobId, { limit: 20 });
    const last = recent.find((e) => e.runRequestedAt !== null);
    return last?.status === 'STOPPED' && last.savepointLocation ? last.savepointLocation : null;
  }

  /**
   * Where the new execution restores from: the savepoint the replaced one was stopped with,
   * or, when it never reached Flink, the savepoint it would itself have restored from. One
   * that ran and ended without a savepoint (CANCELLED, FAILED, LOST: its stop did not take
   * one) blocks the tick: starting without its state is what `savepoint` is there to avoid.
   * One that FINISHED on its own has no state left to carry over.
   */
  private restorePoint(
    active: Execution[],
    ended: Execution[],
    log: Logger,
  ): { kind: 'clear'; savepointPath: string | null } | { kind: 'blocked'; reason: string } {
    const byId = new Map(ended.map((e) => [e.id, e]));
    for (const { id } of active) {
      const e = byId.get(id);
      if (e?.savepointLocation) return { kind: 'clear', savepointPath: e.savepointLocation };
      if (e && !e.runRequestedAt && e.savepointPath) return { kind: 'clear', savepointPath: e.savepointPath };
    }
    const ran = ended.filter((e) => e.runRequestedAt);
    const stateLost = ran.find((e) => e.status !== 'FINISHED');
    if (stateLost) {
      const why = stateLost.errorMessage ? ` (${stateLost.errorMessage})` : '';
      return {
        kind: 'blocked',
        reason: `Skipped: execution ${stateLost.id} was asked to stop with a savepoint but ended ${stateLost.status} without one${why}; the new execution would start without its state, so none is started.`,
      };
    }
    const [finished] = ran;
    if (finished) log.info({ executionId: finished.id }, 'replaced execution finished on its own: nothing to restore');
    return { kind: 'clear', savepointPath: null };
  }

  private async started(outcome: InsertOutcome, log: Logger): Promise<void> {
    switch (outcome.kind) {
      case 'created':
        await this.dispatch.submit(outcome.execution);
        this.observer?.outcome('started');
        log.info({ executionId: outcome.execution.id }, 'schedule tick started an execution');
        return;
      case 'duplicate_tick':
        this.observer?.outcome('duplicate');
        log.info({}, 'tick delivered again; already handled');
        return;
      case 'active':
      case 'job_missing':
      case 'job_disabled':
        this.observer?.outcome('ignored');
        return;
    }
  }

  private async record(tick: NewExecution, log: Logger): Promise<void> {
    const outcome = await this.executions.insert(tick, { exclusive: false });
    this.observer?.outcome(outcome.kind === 'created' ? 'skipped' : 'duplicate');
    if (outcome.kind === 'created') log.info({ reason: tick.errorMessage }, 'schedule tick skipped');
  }
}

/** Ticks to run that fall inside one of the job's stop windows are SKIPPED instead, with the window. */
function holdInWindows(plan: TickPlan, windows: JobStopWindows | null): TickPlan {
  if (!windows) return plan;
  const run: Date[] = [];
  const notRun = [...plan.notRun];
  for (const tick of plan.run) {
    const window = windows.openAt(tick);
    if (!window) run.push(tick);
    else notRun.push({ scheduledFor: tick, status: 'SKIPPED', errorMessage: `Skipped: ${describeWindow(window)}.` });
  }
  return { ...plan, run, notRun };
}
