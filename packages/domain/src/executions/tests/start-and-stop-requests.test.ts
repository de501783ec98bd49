import { expect } from 'chai';
import {
  DependencyUnavailable,
  ExecutionActive,
  JobDisabled,
  JobNotFound,
  NoActiveExecution,
  NoSavepoint,
  QueueSubmission,
  RequestStop,
  StartExecution,
} from '../..';
import { world } from '../../testing/fakes';

function setup() {
  const w = world();
  const starts = new StartExecution(
    w.jobs,
    w.executions,
    new QueueSubmission(w.executions, w.queue, w.log),
    w.savepoints,
  );
  const stops = new RequestStop(w);
  return { ...w, starts, stops, job: w.jobs.add() };
}

describe('StartExecution and RequestStop (on fakes)', () => {
  it('a start queues one execution with the job definition, and refuses a second while it is active', async () => {
    const t = setup();
    const e = await t.starts.run(t.job.id, { parallelism: 5 });
    expect(e).to.include({ status: 'QUEUED', parallelism: 5, trigger: 'manual' });
    expect(e.definition).to.deep.include({ jarUrl: 'app.jar', jobVersion: 1 });
    expect(t.queue.sent.map((s) => s.message)).to.deep.equal([{ kind: 'submit', executionId: e.id }]);
    const again = await t.starts.run(t.job.id).catch((err: unknown) => err);
    expect(again).to.be.instanceOf(ExecutionActive);
  });

  it('unknown and disabled jobs, and a missing latest savepoint, are refused with nothing written', async () => {
    const t = setup();
    expect(await t.starts.run('00000000-0000-4000-8000-000000000000').catch((e: unknown) => e)).to.be.instanceOf(
      JobNotFound,
    );
    const paused = t.jobs.add({ enabled: false });
    expect(await t.starts.run(paused.id).catch((e: unknown) => e)).to.be.instanceOf(JobDisabled);
    expect(await t.starts.run(t.job.id, { restoreFrom: 'latest-savepoint' }).catch((e: unknown) => e)).to.be.instanceOf(
      NoSavepoint,
    );
    expect(t.executions.rows.size).to.equal(0);
  });

  it('restoreFrom: the newest restorable savepoint, a savepoint by id, or a path; records the savepoint it names', async () => {
    const t = setup();
    const older = t.savepoints.put({ jobId: t.job.id, location: 'file:///sp/1' });
    t.clock.advance(1000);
    const newest = t.savepoints.put({ jobId: t.job.id, location: 'file:///sp/2' });
    const latest = await t.starts.run(t.job.id, { restoreFrom: 'latest-savepoint' });
    expect(latest).to.include({ savepointPath: 'file:///sp/2', savepointId: newest.id });
    t.executions.rows.set(latest.id, { ...latest, status: 'CANCELLED' });

    const byId = await t.starts.run(t.job.id, { restoreFrom: older.id });
    expect(byId).to.include({ savepointPath: 'file:///sp/1', savepointId: older.id });
    t.executions.rows.set(byId.id, { ...byId, status: 'CANCELLED' });

    const byPath = await t.starts.run(t.job.id, { restoreFrom: 's3://bucket/savepoints/sp-9' });
    expect(byPath).to.include({ savepointPath: 's3://bucket/savepoints/sp-9', savepointId: null });
    t.executions.rows.set(byPath.id, { ...byPath, status: 'CANCELLED' });

    // Disposed of (or being), failed, or another job's: refused, nothing written.
    const rows = t.executions.rows.size;
    const disposed = t.savepoints.put({ jobId: t.job.id, disposedAt: t.clock.now() });
    const failed = t.savepoints.put({ jobId: t.job.id, status: 'FAILED', location: null });
    const foreign = t.savepoints.put({ jobId: t.jobs.add().id });
    for (const [id, code] of [
      [disposed.id, 'savepoint_not_usable'],
      [failed.id, 'savepoint_not_usable'],
      [foreign.id, 'savepoint_not_found'],
    ] as const) {
      const error = await t.starts.run(t.job.id, { restoreFrom: id }).catch((e: { code: string }) => e);
      expect(error).to.have.property('code', code);
    }
    expect(t.executions.rows.size).to.equal(rows);
  });

  it('a queue that refuses: the execution is discarded, and the caller hears Redis is unavailable', async () => {
    const t = setup();
    t.queue.refuse = new Error('Connection is closed.');
    const error = await t.starts.run(t.job.id).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(DependencyUnavailable);
    expect(t.executions.rows.size).to.equal(0);
  });

  it('an accepted start releases its held event; a refused one whose message went out meanwhile still runs', async () => {
    const t = setup();
    const accepted = await t.starts.run(t.job.id);
    expect([...t.executions.confirmed]).to.deep.equal([accepted.id]);
    t.executions.rows.set(accepted.id, { ...accepted, status: 'CANCELLED' });

    // The reconciler sent its message (and released its event) while this enqueue failed.
    const discard = t.executions.discard.bind(t.executions);
    t.executions.discard = async (id) => {
      await t.executions.confirmQueued([id]);
      return discard(id);
    };
    t.queue.refuse = new Error('Connection is closed.');
    const raced = await t.starts.run(t.job.id);
    expect(t.executions.rows.get(raced.id)).to.include({ status: 'QUEUED' });
  });

  it('a stop: QUEUED ends CANCELLED at once; RUNNING becomes STOPPING with a stop message', async () => {
    const t = setup();
    const queued = await t.starts.run(t.job.id);
    expect(await t.stops.forJob(t.job.id)).to.include({ id: queued.id, status: 'CANCELLED' });
    const running = t.executions.put({ jobId: t.job.id, status: 'RUNNING', submittedAt: t.clock.now() });
    const stopping = await t.stops.forJob(t.job.id, { savepoint: true });
    expect(stopping).to.include({ id: running.id, status: 'STOPPING' });
    expect(stopping.stopRequest).to.deep.equal({ savepoint: true, drain: false, requestedAt: t.clock.now() });
    expect(t.queue.kinds()).to.deep.equal(['submit', 'stop']);
  });

  it('a second stop without a savepoint escalates a pending savepoint stop; a repeat does not', async () => {
    const t = setup();
    t.executions.put({ jobId: t.job.id, status: 'RUNNING', submittedAt: t.clock.now() });
    await t.stops.forJob(t.job.id, { savepoint: true });
    await t.stops.forJob(t.job.id, { savepoint: true });
    expect(t.queue.kinds()).to.deep.equal(['stop']);
    t.clock.advance(5000);
    const escalated = await t.stops.forJob(t.job.id, { savepoint: false });
    expect(escalated.stopRequest).to.include({ savepoint: false });
    expect(t.queue.sent.map((s) => s.message)).to.deep.equal([
      { kind: 'stop', executionId: escalated.id, requestedAt: t.clock.now().getTime() - 5000 },
      { kind: 'stop', executionId: escalated.id, requestedAt: t.clock.now().getTime() },
    ]);
  });

  it('a stop message Redis refuses leaves the STOPPING row for the reconciler', async () => {
    const t = setup();
    t.executions.put({ jobId: t.job.id, status: 'RUNNING', submittedAt: t.clock.now() });
    t.queue.refuse = new Error('Connection is closed.');
    expect(await t.stops.forJob(t.job.id)).to.include({ status: 'STOPPING' });
  });

  it('stopping a job with nothing active is refused', async () => {
    const t = setup();
    expect(await t.stops.forJob(t.job.id).catch((e: unknown) => e)).to.be.instanceOf(NoActiveExecution);
  });
});
