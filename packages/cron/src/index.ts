import { InvalidSchedule, type CronCalendar, type LatestRuns, type Schedule } from '@flink-orchestrator/domain';
import { CronExpressionParser, type CronExpression } from 'cron-parser';

/** The fields of a schedule its fire times follow from (`nextRuns` also takes its end). */
type Recurrence = Pick<Schedule, 'cron' | 'timezone' | 'startAt'>;

/**
 * Cron arithmetic with cron-parser, the parser BullMQ's job schedulers use, so the
 * times we show are the times the timer fires. 5 fields, or 6 with seconds first.
 */
export class CronParserCalendar implements CronCalendar {
  // Parsing an expression costs several steps from a parsed one, and runsBetween runs on
  // every tick of every schedule, so parsed expressions are kept (bounded, oldest dropped).
  private readonly parsed = new Map<string, CronExpression>();

  validate(cron: string, timezone: string): void {
    if (!isTimeZone(timezone)) {
      throw new InvalidSchedule(
        'timezone',
        `"${timezone}" is not an IANA time zone name (for example "Europe/Berlin" or "UTC")`,
      );
    }
    const fields = cron.trim().split(/\s+/).length;
    if (fields !== 5 && fields !== 6) {
      throw new InvalidSchedule(
        'cron',
        `"${cron}" has ${fields} field(s); expected 5 (minute hour day-of-month month day-of-week) or 6 (seconds first)`,
      );
    }
    try {
      CronExpressionParser.parse(cron, { tz: timezone, strict: false });
    } catch (error) {
      throw new InvalidSchedule('cron', `"${cron}" is not a valid cron expression: ${(error as Error).message}`);
    }
  }

  nextRuns(schedule: Recurrence & Pick<Schedule, 'endAt'>, from: Date, count: number): Date[] {
    const start = notBefore(schedule.startAt, from);
    const expression = CronExpressionParser.parse(schedule.cron, {
      tz: schedule.timezone,
      currentDate: start,
      ...(schedule.endAt ? { endDate: schedule.endAt } : {}),
    });
    return nextOf(expression, count);
  }

  runsBetween(schedule: Recurrence, after: Date, before: Date, limit: number): Date[] {
    const expression = this.expression(schedule.cron, schedule.timezone);
    expression.reset(notBefore(schedule.startAt, after));
    return nextOf(expression, limit, before);
  }

  latestRunsBetween(schedule: Recurrence, after: Date, until: Date, limit: number): LatestRuns {
    const floor = notBefore(schedule.startAt, after).getTime();
    const expression = this.expression(schedule.cron, schedule.timezone);
    // Walk back from `until` (prev() is strictly before its start, so start just past it).
    // prev() throws when there is no earlier time; hasPrev() would compute each step twice.
    expression.reset(new Date(until.getTime() + 1));
    const previous = (): number | null => {
      try {
        const at = expression.prev().getTime();
        return at > floor ? at : null;
      } catch {
        return null;
      }
    };
    const runs: Date[] = [];
    let at: number | null = null;
    while (runs.length < limit && (at = previous()) !== null) runs.push(new Date(at));
    if (at === null) return { runs: runs.reverse(), earlier: 0, earlierExact: true };
    // Past the newest `limit` times only the count matters, and every step costs CPU, so past
    // MAX_COUNTED steps the rest is estimated from the mean interval.
    const newest = runs[0]?.getTime() ?? at;
    let earlier = 0;
    while ((at = previous()) !== null) {
      if (++earlier < MAX_COUNTED) continue;
      const meanMs = (newest - at) / (runs.length + earlier - 1);
      return { runs: runs.reverse(), earlier: earlier + Math.floor((at - floor) / meanMs), earlierExact: false };
    }
    return { runs: runs.reverse(), earlier, earlierExact: true };
  }

  around(schedule: Recurrence, at: Date): { previous: Date | null; next: Date | null } {
    const expression = this.expression(schedule.cron, schedule.timezone);
    expression.reset(at);
    const next = expression.hasNext() ? expression.next().toDate() : null;
    expression.reset(at);
    let previous: Date | null;
    try {
      previous = expression.prev().toDate(); // strictly before its start; throws when there is none
    } catch {
      previous = null;
    }
    if (previous && schedule.startAt && previous < schedule.startAt) previous = null; // runs start at startAt
    return { previous, next };
  }

  private expression(cron: string, timezone: string): CronExpression {
    const key = `${timezone} ${cron}`;
    let expression = this.parsed.get(key);
    if (!expression) {
      expression = CronExpressionParser.parse(cron, { tz: timezone });
      if (this.parsed.size >= MAX_PARSED) this.parsed.delete(this.parsed.keys().next().value as string);
      this.parsed.set(key, expression);
    }
    return expression;
  }
}

const MAX_PARSED = 1000;
const MAX_COUNTED = 50_000;

/** The expression's next `limit` times at the most, all before `before` when it is given. */
function nextOf(expression: CronExpression, limit: number, before?: Date): Date[] {
  const runs: Date[] = [];
  while (runs.length < limit && expression.hasNext()) {
    const at = expression.next().toDate();
    if (before && at >= before) break;
    runs.push(at);
  }
  return runs;
}

/** Where to start counting runs so that none falls before `startAt` (runs come strictly after it). */
function notBefore(startAt: Date | null, from: Date): Date {
  return startAt && startAt > from ? new Date(startAt.getTime() - 1) : from;
}

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return name.length > 0;
  } catch {
    return false;
  }
}
