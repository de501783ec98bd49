import type { ActionScheduleRepository } from './action-schedule-repository';
import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';

export interface AbandonStaleTicksDeps {
  schedules: Pick<ActionScheduleRepository, 'abandonPending'>;
  clock: Clock;
  log: Logger;
  settings: { abandonAfterMs: number };
}

/** Ticks settled per call: the chores run every period, so a backlog drains over a few. */
const BATCH = 500;

/**
 * Settles the action ticks a worker claimed and never recorded an outcome for (it died, or
 * lost PostgreSQL, between the claim and the outcome): `abandoned`, with why. An action
 * takes moments (it queues work and returns), so a tick pending past the deadline has no
 * worker left on it. It is never run again: the claim may have acted already, and a stop
 * or a start done twice is worse than one reported as not known.
 */
export class AbandonStaleTicks {
  constructor(private readonly deps: AbandonStaleTicksDeps) {}

  async run(): Promise<number> {
    const { schedules, clock, log, settings } = this.deps;
    const afterS = Math.round(settings.abandonAfterMs / 1000);
    const detail = `No outcome recorded within ${afterS} s of the claim (SCHEDULE_TICK_ABANDON_AFTER): the worker that claimed it died or lost PostgreSQL before recording what the action did. The action ran at most once; it is not run again.`;
    const abandoned = await schedules.abandonPending(
      new Date(clock.now().getTime() - settings.abandonAfterMs),
      detail,
      BATCH,
    );
    if (abandoned.length > 0)
      log.warn(
        { ticks: abandoned.map((t) => ({ scheduleId: t.scheduleId, scheduledFor: t.scheduledFor.toISOString() })) },
        'pending schedule ticks abandoned',
      );
    return abandoned.length;
  }
}
