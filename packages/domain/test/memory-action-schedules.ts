import { randomUUID } from 'node:crypto';
import type {
  ActionSchedule,
  ActionScheduleRepository,
  ActionTickOutcome,
  NewActionSchedule,
  ScheduleTick,
} from '../src';
import type { FakeClock } from './fakes';

/** The two tables in maps, with the PostgreSQL repository's rules: claim once, last run advanced, abandon pending. */
export class MemoryActionSchedules implements ActionScheduleRepository {
  readonly rows = new Map<string, ActionSchedule>();
  readonly ticks = new Map<string, ScheduleTick>();

  constructor(private readonly clock: FakeClock) {}

  create(schedule: NewActionSchedule): Promise<ActionSchedule | null> {
    const row = { ...schedule, id: randomUUID(), lastRunAt: null, createdAt: this.clock.now() };
    this.rows.set(row.id, row);
    return Promise.resolve(row);
  }
  /** A schedule as a row, created now unless told otherwise. */
  add(fields: Partial<ActionSchedule> & Pick<ActionSchedule, 'jobId' | 'action' | 'cron'>): ActionSchedule {
    const row: ActionSchedule = {
      id: randomUUID(),
      timezone: 'UTC',
      options: {},
      startAt: null,
      endAt: null,
      lastRunAt: null,
      createdAt: this.clock.now(),
      ...fields,
    };
    this.rows.set(row.id, row);
    return row;
  }
  get(id: string): Promise<ActionSchedule | null> {
    const row = this.rows.get(id);
    return Promise.resolve(row ? { ...row } : null);
  }
  listByJob(jobId: string): Promise<ActionSchedule[]> {
    return Promise.resolve([...this.rows.values()].filter((s) => s.jobId === jobId));
  }
  listAll(): Promise<ActionSchedule[]> {
    return Promise.resolve([...this.rows.values()].map((s) => ({ ...s })));
  }
  delete(_jobId: string, id: string): Promise<boolean> {
    return Promise.resolve(this.rows.delete(id));
  }
  tick(scheduleId: string, at: Date): ScheduleTick | undefined {
    return this.ticks.get(this.key(scheduleId, at));
  }
  ticksOf(scheduleId: string): ScheduleTick[] {
    return [...this.ticks.values()]
      .filter((t) => t.scheduleId === scheduleId)
      .sort((a, b) => a.scheduledFor.getTime() - b.scheduledFor.getTime());
  }
  private key = (id: string, at: Date) => `${id}/${at.toISOString()}`;
  private insert(scheduleId: string, scheduledFor: Date, outcome: ActionTickOutcome, detail: string | null): boolean {
    const key = this.key(scheduleId, scheduledFor);
    if (this.ticks.has(key)) return false;
    this.ticks.set(key, { scheduleId, scheduledFor, outcome, detail, recordedAt: this.clock.now() });
    const row = this.rows.get(scheduleId);
    if (row && (!row.lastRunAt || row.lastRunAt < scheduledFor)) row.lastRunAt = scheduledFor;
    return true;
  }
  claimTick(scheduleId: string, scheduledFor: Date): Promise<boolean> {
    return Promise.resolve(this.insert(scheduleId, scheduledFor, 'pending', null));
  }
  recordTick(scheduleId: string, scheduledFor: Date, outcome: ActionTickOutcome, detail: string): Promise<void> {
    this.insert(scheduleId, scheduledFor, outcome, detail);
    return Promise.resolve();
  }
  settleTick(scheduleId: string, scheduledFor: Date, outcome: ActionTickOutcome, detail: string): Promise<void> {
    const tick = this.ticks.get(this.key(scheduleId, scheduledFor));
    if (tick?.outcome === 'pending') Object.assign(tick, { outcome, detail });
    else if (tick?.outcome === 'abandoned')
      Object.assign(tick, { outcome, detail: `${detail} (Recorded after the tick had been abandoned.)` });
    return Promise.resolve();
  }
  abandonPending(claimedBefore: Date, detail: string, limit: number): Promise<ScheduleTick[]> {
    // Oldest claim first, as the SQL orders them: a sweep cut short by its limit takes those.
    const stale = [...this.ticks.values()]
      .filter((t) => t.outcome === 'pending' && t.recordedAt < claimedBefore)
      .sort((a, b) => a.recordedAt.getTime() - b.recordedAt.getTime())
      .slice(0, limit);
    for (const t of stale) Object.assign(t, { outcome: 'abandoned', detail });
    return Promise.resolve(stale.map((t) => ({ ...t })));
  }
  recentTicks(scheduleIds: readonly string[], limit: number): Promise<Map<string, ScheduleTick[]>> {
    const recent = new Map<string, ScheduleTick[]>();
    for (const id of scheduleIds) {
      const newestFirst = this.ticksOf(id).reverse().slice(0, limit);
      if (newestFirst.length > 0)
        recent.set(
          id,
          newestFirst.map((t) => ({ ...t })),
        );
    }
    return Promise.resolve(recent);
  }
}
