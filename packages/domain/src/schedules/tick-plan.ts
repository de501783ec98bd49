import type { NotRunTick } from '../executions/execution-repository';
import type { LatestRuns } from './schedule-timer';
import type { OverlapPolicy } from './schedule';

/** A grace of hours on a per-second cron must not turn one tick into thousands of runs. */
export const MAX_CATCH_UP = 100;
/** Nor an outage into millions of rows: the newest this many ticks that did not run get one, the rest a count. */
export const MAX_NOT_RUN_ROWS = 1000;

export interface TickPlanInput {
  /** The tick the timer delivered. */
  delivered: Date;
  now: Date;
  misfireGraceMs: number;
  overlap: OverlapPolicy;
  /** The schedule's newest tick that was handled already. */
  lastRunAt: Date | null;
  /** Where the range of due ticks starts (exclusive). */
  since: Date;
  /** The calendar's newest fire times in (since, now], and a count of the earlier ones. */
  due: LatestRuns;
}

/** What one delivered tick does: the ticks to run now, in order, and the ones to record as not run. */
export interface TickPlan {
  run: Date[];
  notRun: NotRunTick[];
  /** Due ticks left without a row by the cap. */
  notRecorded: number;
}

/**
 * Every tick that fell due, not only the delivered one. BullMQ computes a scheduler's next
 * fire time from when the last tick was taken: a tick taken late makes it drop the ones in
 * between, and after an outage it delivers the one tick that was pending and continues
 * from now, so every tick of the outage would vanish. Due ticks within the misfire grace
 * run, in order (`replace`: only the newest; the others are SKIPPED as superseded); older
 * ones are recorded MISSED, the newest MAX_NOT_RUN_ROWS of them, with a count of the rest.
 */
export function planTicks(input: TickPlanInput): TickPlan {
  const { delivered, now, misfireGraceMs: grace } = input;
  const { ordered, earlier, exact } = dueTicks(input);
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
  if (input.overlap === 'replace' && inGrace.length > 0) {
    // Only the newest tick survives, and never one older than a tick that ran already
    // (delivered out of order): it would replace a newer execution with an older tick's.
    const newest = inGrace[inGrace.length - 1] as Date;
    const last = input.lastRunAt;
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

/** The calendar's due ticks with the delivered one among them, oldest first, and a count of earlier ones. */
function dueTicks({ delivered, since, due }: TickPlanInput): { ordered: Date[]; earlier: number; exact: boolean } {
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

/** 4213 → "4,213", independent of the process locale. */
function grouped(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
