import { CronParserCalendar } from '@flink-orchestrator/cron';
import { expect } from 'chai';
import {
  AbandonStaleTicks,
  FireActionTick,
  ManageSavepoints,
  MAX_ACTION_CATCH_UP,
  QueueSubmission,
  RequestStop,
  StopWindows,
  type ActionSchedule,
} from '../..';
import { world } from '../../testing/fakes';
import { MemoryActionSchedules } from '../../testing/memory-action-schedules';

const calendar = new CronParserCalendar();

function setup(action: ActionSchedule['action'], options: ActionSchedule['options'] = {}) {
  const w = world();
  const schedules = new MemoryActionSchedules(w.clock);
  const fire = new FireActionTick({
    ...w,
    schedules,
    submissions: new QueueSubmission(w.executions, w.queue, w.log),
    stops: new RequestStop(w),
    savepointRequests: new ManageSavepoints(w),
    windows: new StopWindows(schedules, calendar, w.clock),
    calendar,
    settings: { misfireGraceMs: 60_000 },
  });
  const job = w.jobs.add();
  // Created at the clock's start, 2030-01-01 00:00 UTC.
  const schedule = schedules.add({ jobId: job.id, action, cron: '0 2 * * *', options });
  const tick = (at: Date) => schedules.tick(schedule.id, at);
  const setTime = (iso: string) => w.clock.advance(new Date(iso).getTime() - w.clock.now().getTime());
  const rows = (id: string) => schedules.rows.get(id) as ActionSchedule;
  return { ...w, schedules, fire, job, schedule, tick, setTime, rows };
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

  it('a stop tick found late while its window is open acts late and says so; past the window it is MISSED', async () => {
    const t = setup('stop');
    const start = t.schedules.add({ jobId: t.job.id, action: 'start', cron: '0 6 * * *' });
    const running = t.executions.put({ jobId: t.job.id, status: 'RUNNING', flinkJobId: 'f'.repeat(32) });
    // No worker took the 02:00 tick; one comes back at 03:00, inside the window.
    t.setTime('2030-01-01T03:00:00Z');
    expect(await t.fire.sweep()).to.equal(1);
    const night = new Date('2030-01-01T02:00:00Z');
    expect(t.tick(night)).to.include({
      outcome: 'done',
      detail: `Stop with a savepoint asked of execution ${running.id}. Acted 3600 s late (grace 60 s): its stop window is open until 2030-01-01T06:00:00.000Z.`,
    });
    expect(t.queue.kinds()).to.deep.equal(['stop']);
    expect(await t.fire.sweep()).to.equal(0); // once

    // The next night no worker runs from before 02:00 until 07:00: the window has ended.
    t.executions.rows.set(running.id, { ...running, status: 'STOPPED' });
    const again = t.executions.put({ jobId: t.job.id, status: 'RUNNING', flinkJobId: 'e'.repeat(32) });
    t.setTime('2030-01-02T07:00:00Z');
    await t.fire.sweep();
    expect(t.tick(new Date('2030-01-02T02:00:00Z'))).to.include({
      outcome: 'missed',
      detail:
        'Tick not delivered by the timer (no worker took ticks, or one was taken late); noticed 18000 s late (grace 60 s); not run: its stop window ended at 2030-01-02T06:00:00.000Z.',
    });
    expect(t.schedules.ticksOf(start.id).map((x) => x.outcome)).to.deep.equal(['missed', 'missed']);
    expect(t.executions.rows.get(again.id)?.stopRequest ?? null).to.equal(null);
    expect(t.queue.kinds()).to.deep.equal(['stop']);
  });

  it("ticks that fell due while no worker ran get rows from the schedule's last recorded tick, the newest 100", async () => {
    const t = setup('savepoint');
    t.rows(t.schedule.id).cron = '0 * * * *';
    // 200 hours later the timer delivers the newest tick, on time.
    t.setTime('2030-01-09T08:00:00Z');
    await t.fire.run(t.schedule.id, t.clock.now());
    const ticks = t.schedules.ticksOf(t.schedule.id);
    expect(ticks).to.have.length(MAX_ACTION_CATCH_UP + 1);
    expect(ticks.at(-1)).to.include({ outcome: 'skipped', detail: 'Nothing was running.' });
    expect(ticks.slice(0, -1).every((x) => x.outcome === 'missed')).to.equal(true);
    expect(ticks[0]?.scheduledFor).to.deep.equal(new Date('2030-01-05T04:00:00Z'));
    expect(ticks[0]?.detail).to.match(/…and 99 earlier ticks not recorded \(cap 100\)\.$/);
    expect(t.rows(t.schedule.id).lastRunAt).to.deep.equal(t.clock.now());
    // From there on nothing more: every due tick has its row.
    t.clock.advance(120_000);
    expect(await t.fire.sweep()).to.equal(0);
  });

  it('a pending tick older than the deadline is settled abandoned, with why, and never run again', async () => {
    const t = setup('stop');
    t.executions.put({ jobId: t.job.id, status: 'RUNNING', flinkJobId: 'f'.repeat(32) });
    t.setTime('2030-01-01T02:00:00Z');
    const at = t.clock.now();
    // A worker claimed the tick and died before acting or recording anything.
    expect(await t.schedules.claimTick(t.schedule.id, at)).to.equal(true);
    const abandon = new AbandonStaleTicks({ ...t, settings: { abandonAfterMs: 300_000 } });
    t.clock.advance(300_000);
    expect(await abandon.run()).to.equal(0);
    t.clock.advance(1);
    expect(await abandon.run()).to.equal(1);
    expect(t.tick(at)?.outcome).to.equal('abandoned');
    expect(t.tick(at)?.detail).to.match(/^No outcome recorded within 300 s of the claim/);
    // Delivered again (the timer's stalled job), and swept: still one claim, no stop.
    await t.fire.run(t.schedule.id, at);
    await t.fire.sweep();
    expect(t.queue.kinds()).to.deep.equal([]);
    expect(t.tick(at)?.outcome).to.equal('abandoned');
  });
});
