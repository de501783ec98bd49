import type { Logger } from '../shared/logger';

export interface TimerCounts {
  created: number;
  updated: number;
  removed: number;
}

export interface TimerReconciliation<T> {
  /** What PostgreSQL says should have a timer, by timer key. */
  wanted: ReadonlyMap<string, T & { cron: string; timezone: string }>;
  /** The timers that exist, by key, with what they fire on. */
  existing: ReadonlyMap<string, { cron: string; timezone: string }>;
  upsert(key: string, schedule: T): Promise<void>;
  remove(key: string): Promise<void>;
  /** Read again after an upsert: a schedule removed meanwhile must not keep the timer the upsert made. */
  stillWanted(key: string): Promise<boolean>;
  log: Logger;
}

/**
 * Makes timers match PostgreSQL: creates missing ones, fixes changed ones, removes orphans.
 * The timers are transport; whatever Redis lost or kept too long, this brings back in line.
 */
export async function reconcileTimers<T>(r: TimerReconciliation<T>): Promise<TimerCounts> {
  const counts: TimerCounts = { created: 0, updated: 0, removed: 0 };
  for (const [key, schedule] of r.wanted) {
    const current = r.existing.get(key);
    const kind = !current
      ? 'created'
      : current.cron !== schedule.cron || current.timezone !== schedule.timezone
        ? 'updated'
        : null;
    if (!kind) continue;
    try {
      await r.upsert(key, schedule);
      if (!(await r.stillWanted(key))) {
        await r.remove(key);
        continue;
      }
      counts[kind]++;
    } catch (error) {
      // One timer Redis refuses must not keep every other schedule from coming back.
      r.log.warn({ err: error, timer: key }, 'schedule timer not reconciled');
    }
  }
  for (const key of r.existing.keys()) {
    if (r.wanted.has(key)) continue;
    await r.remove(key);
    counts.removed++;
  }
  return counts;
}
