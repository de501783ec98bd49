import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import {
  FireActionTick,
  ManageSavepoints,
  QueueSubmission,
  RequestStop,
  type ActionSchedule,
  type ActionScheduleRepository,
  type ActionTickOutcome,
  type NewActionSchedule,
  type ScheduleTick,
} from '../src';
import { world } from './fakes';

/** The two tables in maps, with the PostgreSQL repository's claim-once rule. */
class MemoryActionSchedules implements ActionScheduleRepository {
  readonly rows = new Map<string, ActionSchedule>();
  readonly ticks = new Map<string, ScheduleTick>();

  create(schedule: NewActionSchedule): Promise<ActionSchedule | null> {
    const row = { ...schedule, id: randomUUID(), lastRunAt: null, createdAt: new Date() };
    this.rows.set(row.id, row);
    return Promise.resolve(row);
  }
  get(id: string): Promise<ActionSchedule | null> {
    return Promise.resolve(this.rows.get(id) ?? null);
  }
  listByJob(jobId: string): Promise<ActionSchedule[]> {
    return Promise.resolve([...this.rows.values()].filter((s) => s.jobId === jobId));
  }
  listAll(): Promise<ActionSchedule[]> {
    return Promise.resolve([...this.rows.values()]);
  }
  delete(_jobId: string, id: string): Promise<boolean> {
    return Promise.resolve(this.rows.delete(id));
  }
  private key = (id: string, at: Date) => `${id}/${at.toISOString()}`;
  claimTick(scheduleId: string, scheduledFor: Date): Promise<boolean> {
    if (this.ticks.has(this.key(scheduleId, scheduledFor))) return Promise.resolve(false);
    this.ticks.set(this.key(scheduleId, scheduledFor), {
      scheduleId,
      scheduledFor,
      outcome: 'pending',
      detail: null,
      recordedAt: new Date(),
    });
    return Promise.resolve(true);
  }
  recordTick(scheduleId: string, scheduledFor: Date, outcome: ActionTickOutcome, detail: string): Promise<void> {
    const key = this.key(scheduleId, scheduledFor);
    if (!this.ticks.has(key))
      this.ticks.set(key, { scheduleId, scheduledFor, outcome, detail, recordedAt: new Date() });
    return Promise.resolve();
  }
  settleTick(scheduleId: string, scheduledFor: Date, outcome: ActionTickOutcome, detail: string): Promise<void> {
    const tick = this.ticks.get(this.key(scheduleId, scheduledFor));
    if (tick?.outcome === 'pending') Object.assign(tick, { outcome, detail });
    return Promise.resolve();
  }
  recentTicks(): Promise<Map<string, ScheduleTick[]>> {
    return Promise.resolve(new Map());
  }
}

function setup(action: ActionSchedule['action'], options: ActionSchedule['options'] = {}) {
  const w = world();
  const schedules = new MemoryActionSchedules();
  const fire = new FireActionTick({
    ...w,
    schedules,
    submissions: new QueueSubmission(w.executions, w.queue, w.log),
    stops: new RequestStop(w),
    savepointRequests: new ManageSavepoints(w),
    settings: { misfireGraceMs: 60_000 },
  });
  const job = w.jobs.add();
  const schedule = {
    id: randomUUID(),
    jobId: job.id,
    action,
    cron: '0 2 * * *',
    timezone: 'UTC',
    options,
    startAt: null,
    endAt: null,
    lastRunAt: null,
    createdAt: w.clock.now(),
  };
  schedules.rows.set(schedule.id, schedule);
  const tick = (at: Date) => schedules.ticks.get(`${schedule.id}/${at.toISOString()}`);
  return { ...w, schedules, fire, job, schedule, tick };
}

describe('FireActionTick: one action per tick (on fakes)', () => {
  it('a tick delivered twice stops once; one later than the grace is MISSED and does nothing', async () => {
    const t = setup('stop', { savepoint: false });
    const running = t.executions.put({ jobId: t.job.id, status: 'RUNNING', flinkJobId: 'f'.repeat(32) });
    const at = t.clock.now();
    await t.fire.run(t.schedule.id, at);
    await t.fire.run(t.schedule.id, at);
    expect(t.queue.kinds()).to.deep.equal(['stop']);
    expect(t.executions.rows.get(running.id)?.stopRequest).to.include({ savepoint: false });
    expect(t.tick(at)).to.include({ outcome: 'done', detail: `Stop asked of execution ${running.id}.` });

    t.clock.advance(3600_000);
    const late = new Date(t.clock.now().getTime() - 61_000);
    await t.fire.run(t.schedule.id, late);
    expect(t.tick(late)).to.include({ outcome: 'missed', detail: 'Tick fired 61 s late (grace 60 s); not run.' });
    expect(t.queue.kinds()).to.deep.equal(['stop']);
  });

  it('a start skips while an execution is active, and starts from the newest savepoint when asked', async () => {
    const t = setup('start', { restoreFrom: 'latest-savepoint' });
    const active = t.executions.put({ jobId: t.job.id, status: 'RUNNING' });
    const first = t.clock.now();
    await t.fire.run(t.schedule.id, first);
    expect(t.tick(first)).to.include({
      outcome: 'skipped',
      detail: `Not started: execution ${active.id} is still RUNNING.`,
    });

    t.executions.rows.set(active.id, { ...active, status: 'STOPPED' });
    const savepoint = t.savepoints.put({ jobId: t.job.id, location: 'file:///sp/night' });
    t.clock.advance(60_000);
    const second = t.clock.now();
    await t.fire.run(t.schedule.id, second);
    const started = [...t.executions.rows.values()].find((e) => e.trigger === 'schedule');
    expect(started).to.include({ savepointId: savepoint.id, savepointPath: 'file:///sp/night', scheduledFor: second });
    expect(t.tick(second)?.detail).to.equal(`Started execution ${started?.id} from savepoint ${savepoint.id}.`);
  });

  it('a savepoint tick with nothing running is recorded and skipped; a disabled job is skipped too', async () => {
    const t = setup('savepoint');
    const at = t.clock.now();
    await t.fire.run(t.schedule.id, at);
    expect(t.tick(at)).to.include({ outcome: 'skipped', detail: 'Nothing was running.' });
    expect(t.savepoints.rows.size).to.equal(0);

    t.jobs.rows.set(t.job.id, { ...t.job, enabled: false });
    t.executions.put({ jobId: t.job.id, status: 'RUNNING', flinkJobId: 'e'.repeat(32) });
    t.clock.advance(1000);
    await t.fire.run(t.schedule.id, t.clock.now());
    expect(t.tick(t.clock.now())).to.include({ outcome: 'skipped', detail: 'The job is disabled.' });
    expect(t.savepoints.rows.size).to.equal(0);
  });
});
