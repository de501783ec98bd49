import { CronParserCalendar } from '@flink-orchestrator/cron';
import { expect } from 'chai';
import {
  FireScheduleTick,
  flinkJobIdFor,
  InStopWindow,
  JobStopWindows,
  QueueSubmission,
  RequestStop,
  RestartAfterFailure,
  restartPolicyOf,
  StartExecution,
  StopWindows,
} from '../..';
import { world } from '../../testing/fakes';
import { MemoryActionSchedules } from '../../testing/memory-action-schedules';

const calendar = new CronParserCalendar();
const at = (iso: string) => new Date(`2030-01-01T${iso}Z`);

/** A job with a nightly window: stop at 02:00, start at 06:00 (UTC); the clock at 2030-01-01 00:00. */
function setup() {
  const w = world();
  const schedules = new MemoryActionSchedules(w.clock);
  const windows = new StopWindows(schedules, calendar, w.clock);
  const job = w.jobs.add();
  const stop = schedules.add({ jobId: job.id, action: 'stop', cron: '0 2 * * *' });
  const start = schedules.add({ jobId: job.id, action: 'start', cron: '0 6 * * *' });
  const setTime = (iso: string) => w.clock.advance(at(iso).getTime() - w.clock.now().getTime());
  return { ...w, schedules, windows, job, stop, start, setTime };
}

describe('stop windows (on fakes, fake clock, the real cron calendar)', () => {
  it('open from a stop tick until the next start tick: the stop tick in, the start tick out', async () => {
    const t = setup();
    const of = async (iso: string) => (await t.windows.forJob(t.job.id)).openAt(at(iso));
    expect(await of('01:59:59.999')).to.equal(null);
    expect(await of('02:00:00')).to.deep.equal({
      stopScheduleId: t.stop.id,
      openedAt: at('02:00:00'),
      endsAt: at('06:00:00'),
      startScheduleId: t.start.id,
    });
    expect((await of('05:59:59.999'))?.endsAt).to.deep.equal(at('06:00:00'));
    expect(await of('06:00:00')).to.equal(null);
    // The nearest start tick ends it: a second start schedule at 04:00 shortens the window.
    const early = t.schedules.add({ jobId: t.job.id, action: 'start', cron: '0 4 * * *' });
    expect(await of('03:00:00')).to.deep.include({ endsAt: at('04:00:00'), startScheduleId: early.id });
    expect(await of('04:30:00')).to.equal(null);
    // Other jobs' schedules, and savepoint schedules, open nothing.
    expect(await t.windows.openNow(t.jobs.add().id)).to.equal(null);
  });

  it('no start schedule: a stop tick opens no window; ticks before a schedule existed, or past its endAt, open none', async () => {
    const t = setup();
    t.schedules.rows.delete(t.start.id);
    expect((await t.windows.forJob(t.job.id)).openAt(at('03:00:00'))).to.equal(null);
    // A stop schedule created at 03:00: its 02:00 tick of that night never fell due.
    const w = world();
    w.clock.advance(3 * 3600_000);
    const late = new JobStopWindows(
      [
        { ...t.stop, createdAt: w.clock.now() },
        { ...t.start, createdAt: at('00:00:00') },
      ],
      calendar,
    );
    expect(late.openAt(at('03:30:00'))).to.equal(null);
    expect(late.openAt(new Date('2030-01-02T02:30:00Z'))?.endsAt).to.deep.equal(new Date('2030-01-02T06:00:00Z'));
    // A stop schedule that ended at 01:00 opens no window that night.
    const ended = new JobStopWindows([{ ...t.stop, endAt: at('01:00:00') }, t.start], calendar);
    expect(ended.openAt(at('03:00:00'))).to.equal(null);
  });

  it('a manual start inside the window is refused (in_stop_window, naming its end); with force it starts', async () => {
    const t = setup();
    const starts = new StartExecution(
      t.jobs,
      t.executions,
      new QueueSubmission(t.executions, t.queue, t.log),
      t.savepoints,
      t.windows,
    );
    t.setTime('03:00:00');
    const refused = await starts.run(t.job.id).catch((e: unknown) => e);
    expect(refused).to.be.instanceOf(InStopWindow);
    expect((refused as InStopWindow).code).to.equal('in_stop_window');
    expect((refused as InStopWindow).message).to.contain('until 2030-01-01T06:00:00.000Z');
    expect((refused as InStopWindow).details).to.deep.include({ endsAt: '2030-01-01T06:00:00.000Z' });
    expect(t.executions.rows.size).to.equal(0);
    const forced = await starts.run(t.job.id, { force: true });
    expect(forced).to.include({ status: 'QUEUED', trigger: 'manual' });
    t.executions.rows.delete(forced.id);
    t.setTime('06:00:00');
    expect(await starts.run(t.job.id)).to.include({ status: 'QUEUED' });
  });

  it("the job's start-schedule ticks inside the window are SKIPPED with the window; outside it they start", async () => {
    const t = setup();
    const submissions = new QueueSubmission(t.executions, t.queue, t.log);
    const stops = new RequestStop(t);
    const tick = new FireScheduleTick({
      ...t,
      calendar,
      dispatch: { submit: (e) => submissions.run(e), stop: (e, o) => stops.forExecution(e, o) },
      settings: { misfireGraceMs: 60_000, replaceWaitMs: 1000 },
    });
    const cron = { timezone: 'UTC', startAt: null, endAt: null, lastRunAt: null, preflightMinutes: null };
    t.setTime('02:29:00'); // the schedule set just before the tick: no earlier tick is due
    t.jobs.rows.set(t.job.id, {
      ...t.job,
      updatedAt: t.clock.now(),
      schedule: { ...cron, cron: '30 * * * *', overlap: 'skip', replace: null, preflight: null },
    });
    t.setTime('02:30:00');
    await tick.run(t.job.id, at('02:30:00'));
    const [held] = [...t.executions.rows.values()];
    expect(held).to.include({ status: 'SKIPPED', trigger: 'schedule' });
    expect(held?.errorMessage).to.equal(
      `Skipped: the job is in its stop window until 2030-01-01T06:00:00.000Z (opened by stop schedule ${t.stop.id} at 2030-01-01T02:00:00.000Z).`,
    );
    for (const hour of ['03', '04', '05', '06']) {
      t.setTime(`${hour}:30:00`);
      await tick.run(t.job.id, at(`${hour}:30:00`));
    }
    expect([...t.executions.rows.values()].map((e) => e.status)).to.deep.equal([
      'SKIPPED',
      'SKIPPED',
      'SKIPPED',
      'SKIPPED',
      'QUEUED',
    ]);
    expect(t.queue.kinds()).to.deep.equal(['submit']);
  });

  it('a failure inside the window is not restarted, the decision saying why; after it, it is', async () => {
    const t = setup();
    const restarts = new RestartAfterFailure({ ...t, windows: t.windows });
    t.jobs.rows.set(t.job.id, { ...t.job, restartPolicy: restartPolicyOf({ onFailure: 'restart' }) });
    const failure = () => {
      const e = t.executions.put({ jobId: t.job.id, status: 'FAILED', startedAt: t.clock.now() });
      t.executions.rows.set(e.id, { ...e, flinkJobId: flinkJobIdFor(e.id) });
      return e.id;
    };
    t.setTime('02:10:00');
    const held = await restarts.run(failure());
    expect(held).to.deep.include({
      decision: 'skipped',
      reason: `Not restarted: the job is in its stop window until 2030-01-01T06:00:00.000Z (opened by stop schedule ${t.stop.id} at 2030-01-01T02:00:00.000Z); its start schedule ${t.start.id} starts the job then.`,
    });
    expect(t.queue.kinds()).to.deep.equal([]);
    t.setTime('07:00:00');
    expect(await restarts.run(failure())).to.include({ decision: 'restarted' });
  });
});
