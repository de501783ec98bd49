import { isTerminal, type Execution } from '../execution';
import type { Job } from '../job';
import type { ExecutionRepository, InsertOutcome, NewExecution, NotRunTick } from '../ports/execution-repository';
import type { JobRepository } from '../ports/job-repository';
import { systemSleeper, type Clock, type Logger, type Sleeper } from '../ports/runtime';
import type { CronCalendar } from '../ports/schedule-timer';
import { DEFAULT_REPLACE_MODE, type ReplaceMode, type Schedule } from '../schedule';
import type { ExecutionControl } from './execution-control';

export interface TickSettings {
  /** A tick later than this is recorded as MISSED instead of run. */
  misfireGraceMs: number;
  /** How long `replace` waits for the old execution to end on Flink before it records the tick SKIPPED. */
  replaceWaitMs: number;
}

/** A grace of hours on a per-second cron must not turn one tick into thousands of runs. */
export const MAX_CATCH_UP = 100;
/** Nor an outage into millions of rows: the newest this many ticks that did not run get one, the rest a count. */
export const MAX_NOT_RUN_ROWS = 1000;
const REPLACE_POLL_MS = 250;

export type TickOutcome = 'started' | 'skipped' | 'missed' | 'duplicate' | 'ignored';

export interface TickObserver {
  lateness(seconds: number): void;
  /** `count` ticks had this outcome (one, unless a batch of ticks that did not run was recorded). */
  outcome(kind: TickOutcome, count?: number): void;
}

/** What one delivered tick does: the ticks to run now, in order, and the ones to record as not run. */
interface TickPlan {
  run: Date[];
  notRun: NotRunTick[];
  /** Due ticks left without a row by the cap. */
  notRecorded: number;
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
    private readonly sleeper: Sleeper = systemSleeper,
  ) {}

  async run(jobId: string, scheduledFor: Date): Promise<void> {
    const job = await this.jobs.get(jobId);
    const schedule = job?.schedule;
    if (!job || !schedule || !job.enabled || (schedule.endAt && scheduledFor > schedule.endAt)) {
      // The timer outlived its schedule (removed, paused, past endAt); the reconciler removes it.
      this.observer?.outcome('ignored');
      return;
    }
    const now = this.clock.now();
    const plan = this.plan(job, schedule, scheduledFor, now);
    if (!plan.run.some((t) => t.getTime() === scheduledFor.getTime())) {
      this.observer?.lateness((now.getTime() - scheduledFor.getTime()) / 1000);
    }
    if (plan.notRun.length > 0) await this.recordNotRun(job, plan, scheduledFor);
    for (const tick of plan.run) await this.fire(job, schedule, tick);
  }

  /**
   * Every tick that fell due since the schedule's last tick, not only the delivered one.
   * BullMQ computes a scheduler's next fire time from when the last tick was taken: a tick
   * taken late makes it drop the ones in between (about 6 % of the ticks of 500 per-second
   * schedules on a busy machine), and after an outage it delivers the one tick that was
   * pending and continues from now, so every tick of the outage would vanish. Due ticks
   * within the misfire grace run, in order (`replace`: only the newest; the others are
   * SKIPPED as superseded); older ones are recorded MISSED, the newest MAX_NOT_RUN_ROWS of
   * them, with a count of the rest. Ticks from before the job last changed (a pause, a new
   * cron) were never due.
   */
  private plan(job: Job, schedule: Schedule, delivered: Date, now: Date): TickPlan {
    const grace = this.settings.misfireGraceMs;
    const { ordered, earlier, exact } = this.dueTicks(job, schedule, delivered, now);
    const lateS = (t: Date) => Math.round((now.getTime() - t.getTime()) / 1000);
    const graceS = grace / 1000;
    const notRun: NotRunTick[] = [];
    const inGrace: Date[] = [];
    for (const t of ordered) {
      if (now.getTime() - t.getTime() <= grace) inGrace.push(t);
      else
        notRun.push({
          scheduledFor: t,
          status: 'MISSED',
          errorMessage:
            t.getTime() === delivered.getTime()
              ? `Tick fired ${lateS(t)} s late (grace ${graceS} s); not run.`
              : `Tick not delivered by the timer (no worker took ticks, or one was taken late); noticed ${lateS(t)} s late (grace ${graceS} s); not run.`,
        });
    }
    const overflow = inGrace.splice(0, Math.max(0, inGrace.length - MAX_CATCH_UP));
    for (const t of overflow) {
      notRun.push({
        scheduledFor: t,
        status: 'MISSED',
        errorMessage: `Not run: more than ${MAX_CATCH_UP} ticks were due within the grace at once; the newest ${MAX_CATCH_UP} ran.`,
      });
    }
    let run = inGrace;
    if (schedule.overlap === 'replace' && inGrace.length > 0) {
      // Only the newest tick survives, and never one older than a tick that ran already
      // (delivered out of order): it would replace a newer execution with an older tick's.
      const newest = inGrace[inGrace.length - 1] as Date;
      const last = schedule.lastRunAt;
      const winner = last && last > newest ? last : newest;
      run = winner === newest ? [newest] : [];
      for (const t of winner === newest ? inGrace.slice(0, -1) : inGrace) {
        notRun.push({
          scheduledFor: t,
          status: 'SKIPPED',
          errorMessage: `Skipped: superseded by the tick at ${winner.toISOString()} (overlap replace runs the newest due tick only).`,
        });
      }
    }
    notRun.sort((a, b) => a.scheduledFor.getTime() - b.scheduledFor.getTime());
    const dropped = notRun.splice(0, Math.max(0, notRun.length - MAX_NOT_RUN_ROWS));
    const notRecorded = dropped.length + earlier;
    const first = notRun[0];
    if (first && notRecorded > 0) {
      const about = exact ? '' : 'about ';
      first.errorMessage += ` …and ${about}${grouped(notRecorded)} earlier tick${notRecorded === 1 ? '' : 's'} not recorded (cap ${grouped(MAX_NOT_RUN_ROWS)}).`;
    }
    return { run, notRun, notRecorded };
  }

  /**
   * The delivered tick and the ones due since the schedule's last tick or the job's last
   * change, whichever is later, up to now (or endAt), oldest first: the newest of them, and
   * a count of the earlier ones.
   */
  private dueTicks(
    job: Job,
    schedule: Schedule,
    delivered: Date,
    now: Date,
  ): { ordered: Date[]; earlier: number; exact: boolean } {
    const since = new Date(Math.max(schedule.lastRunAt?.getTime() ?? 0, job.updatedAt.getTime()));
    const until = schedule.endAt && schedule.endAt < now ? schedule.endAt : now;
    const due =
      since < until
        ? this.calendar.latestRunsBetween(schedule, since, until, MAX_NOT_RUN_ROWS + MAX_CATCH_UP)
        : { runs: [], earlier: 0, earlierExact: true };
    const times = new Map(due.runs.map((t) => [t.getTime(), t]));
    let earlier = due.earlier;
    const oldest = due.runs[0];
    if (!times.has(delivered.getTime())) {
      // A delivered tick older than the newest ones the calendar gave is among the counted ones.
      if (earlier > 0 && oldest && delivered > since && delivered < oldest) earlier--;
      times.set(delivered.getTime(), delivered);
    }
    const ordered = [...times.values()].sort((a, b) => a.getTime() - b.getTime());
    return { ordered, earlier, exact: due.earlierExact };
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

  private async fire(job: Job, schedule: Schedule, scheduledFor: Date): Promise<void> {
    const log = this.log.child({ jobId: job.id, scheduledFor: scheduledFor.toISOString() });
    this.observer?.lateness((this.clock.now().getTime() - scheduledFor.getTime()) / 1000);
    const tick: NewExecution = {
      jobId: job.id,
      trigger: 'schedule',
      status: 'QUEUED',
      parallelism: null, // the job's, read in the same statement as the rest of the definition
      savepointPath: null,
      allowNonRestoredState: false,
      scheduledFor,
    };
    if (schedule.overlap === 'replace') {
      return this.replace(job, schedule.replace ?? DEFAULT_REPLACE_MODE, tick, scheduledFor, log);
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

  /**
   * `replace`: the running execution ends on Flink (cancelled, or stopped with a savepoint
   * the new one restores from) before the new one is queued, so a definition never has two
   * Flink jobs. When it does not end in time, or its stop fails, the tick is SKIPPED.
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
    const way = await this.clearWay(job.id, mode, log);
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
    mode: ReplaceMode,
    log: Logger,
  ): Promise<{ kind: 'clear'; savepointPath: string | null } | { kind: 'blocked'; reason: string }> {
    const active = await this.executions.findActive(jobId);
    if (active.length === 0) return { kind: 'clear', savepointPath: null };
    const savepoint = mode === 'savepoint';
    for (const execution of active) await this.control.stopExecution(execution, { savepoint });
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
        return { kind: 'clear', savepointPath: savepoint ? this.restorePoint(active, current, log) : null };
      }
      const left = deadline - this.clock.now().getTime();
      if (left <= 0) {
        return {
          kind: 'blocked',
          reason: `Skipped: execution ${pending.id} was still ${pending.status} ${waitS} s after it was asked to ${savepoint ? 'stop with a savepoint' : 'cancel'}; no second Flink job is started.`,
        };
      }
      await this.sleeper.sleep(Math.min(REPLACE_POLL_MS, left));
    }
  }

  /**
   * Where the new execution restores from: the savepoint the replaced one was stopped with,
   * or, when it never reached Flink, the savepoint it would itself have restored from.
   */
  private restorePoint(active: Execution[], ended: Execution[], log: Logger): string | null {
    const byId = new Map(ended.map((e) => [e.id, e]));
    for (const { id } of active) {
      const e = byId.get(id);
      if (e?.savepointLocation) return e.savepointLocation;
      if (e && !e.runRequestedAt && e.savepointPath) return e.savepointPath;
    }
    const ran = ended.find((e) => e.runRequestedAt);
    if (ran) log.warn({ executionId: ran.id, status: ran.status }, 'replaced execution ended without a savepoint');
    return null;
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

  private async record(tick: NewExecution, log: Logger): Promise<void> {
    const outcome = await this.executions.insert(tick, { exclusive: false });
    this.observer?.outcome(outcome.kind === 'created' ? 'skipped' : 'duplicate');
    if (outcome.kind === 'created') log.info({ reason: tick.errorMessage }, 'schedule tick skipped');
  }
}

/** 4213 → "4,213", independent of the process locale. */
function grouped(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
