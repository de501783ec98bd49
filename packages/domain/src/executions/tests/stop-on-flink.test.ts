import { expect } from 'chai';
import { DEFAULT_OBSERVER_SETTINGS, flinkJobIdFor, ObserveCluster, StopOnFlink, TransientFailure } from '../..';
import { world } from '../../testing/fakes';

function running() {
  const w = world();
  const job = w.jobs.add();
  const e = w.executions.put({ jobId: job.id, status: 'RUNNING', submittedAt: w.clock.now() });
  const flinkJobId = flinkJobIdFor(e.id);
  w.executions.rows.set(e.id, { ...e, flinkJobId });
  w.flink.jobs.set(flinkJobId, { state: 'RUNNING' });
  return { ...w, id: e.id, flinkJobId };
}

describe('StopOnFlink (on fakes, fake clock)', () => {
  const settings = { savepointDir: 'file:///sp', pollIntervalMs: 500, timeoutMs: 10_000 };

  async function stopping(t: ReturnType<typeof running>, savepoint: boolean) {
    const requestedAt = t.clock.now();
    await t.executions.transition(t.id, 'STOPPING', { stopRequest: { savepoint, drain: false, requestedAt } });
    return requestedAt;
  }

  it('a cancel ends CANCELLED with the state Flink reports', async () => {
    const t = running();
    await stopping(t, false);
    await new StopOnFlink({ ...t, settings }).run(t.id, { number: 1, final: false });
    expect(t.executions.rows.get(t.id)).to.include({ status: 'CANCELLED', flinkState: 'CANCELED' });
  });

  it('a savepoint stop records where the savepoint went, as STOPPED', async () => {
    const t = running();
    await stopping(t, true);
    await new StopOnFlink({ ...t, settings }).run(t.id, { number: 1, final: false });
    expect(t.executions.rows.get(t.id)).to.include({ status: 'STOPPED', savepointLocation: 'file:///savepoints/sp-1' });
  });

  it('an operation Flink forgot: FINISHED with a savepoint listed since is STOPPED with it; still running, asked again', async () => {
    const t = running();
    await stopping(t, true);
    const stop = new StopOnFlink({ ...t, settings });
    // Flink forgot the operation; the job still runs: the stop never happened.
    t.flink.savepoint = { status: 'unknown' };
    t.flink.stopWithSavepoint = (_jobId, options) => Promise.resolve(options.triggerId);
    expect(await stop.run(t.id, { number: 1, final: false }).catch((e: unknown) => e)).to.be.instanceOf(
      TransientFailure,
    );
    expect(t.executions.status(t.id)).to.equal('STOPPING');

    // It did happen: the job FINISHED, and its statistics list the savepoint.
    t.flink.jobs.set(t.flinkJobId, { state: 'FINISHED' });
    t.flink.listedSavepoints.set(t.flinkJobId, { location: 'file:///sp/stopped', triggeredAt: t.clock.now() });
    await stop.run(t.id, { number: 2, final: false });
    expect(t.executions.rows.get(t.id)).to.include({ status: 'STOPPED', savepointLocation: 'file:///sp/stopped' });
    const [record] = [...t.savepoints.rows.values()];
    expect(record).to.include({ kind: 'stop', status: 'COMPLETED', location: 'file:///sp/stopped' });
  });

  it('an operation Flink forgot, the job ended without a savepoint since: ended, its record FAILED saying why', async () => {
    const t = running();
    await stopping(t, true);
    t.flink.savepoint = { status: 'unknown' };
    t.flink.stopWithSavepoint = (_jobId, options) => Promise.resolve(options.triggerId);
    t.flink.jobs.set(t.flinkJobId, { state: 'CANCELED' });
    await new StopOnFlink({ ...t, settings }).run(t.id, { number: 1, final: false });
    expect(t.executions.rows.get(t.id)).to.include({ status: 'CANCELLED', savepointLocation: null });
    const [record] = [...t.savepoints.rows.values()];
    expect(record?.status).to.equal('FAILED');
    expect(record?.errorMessage).to.contain('no longer knows the stop operation');
  });

  it('a savepoint that never completes: gives up at the timeout on the clock, without real waiting', async () => {
    const t = running();
    await stopping(t, true);
    t.flink.savepoint = { status: 'IN_PROGRESS' };
    const error = await new StopOnFlink({ ...t, settings })
      .run(t.id, { number: 1, final: false })
      .catch((err: unknown) => err);
    expect(error).to.be.instanceOf(TransientFailure);
    expect((error as Error).message).to.equal('Savepoint did not complete in time.');
    expect(t.clock.sleeps.reduce((a, b) => a + b, 0)).to.be.within(10_000, 10_500);
    expect(t.executions.status(t.id)).to.equal('STOPPING');
  });

  it('the last try failing puts the execution back to RUNNING, where the observer follows it again', async () => {
    const t = running();
    await stopping(t, true);
    t.flink.savepoint = { status: 'FAILED', reason: 'checkpoint coordinator shut down' };
    await new StopOnFlink({ ...t, settings }).run(t.id, { number: 3, final: true });
    expect(t.executions.rows.get(t.id)).to.include({
      status: 'RUNNING',
      errorMessage: 'Stop failed: Savepoint failed: checkpoint coordinator shut down',
      stopRequest: null,
    });
    expect(t.queue.sent).to.deep.equal([]);
    t.flink.jobs.set(t.flinkJobId, { state: 'FAILED' });
    await new ObserveCluster({
      ...t,
      cluster: 'default',
      settings: { ...DEFAULT_OBSERVER_SETTINGS, lostGraceMs: 0 },
    }).tick();
    expect(t.executions.rows.get(t.id)).to.include({
      status: 'FAILED',
      errorMessage: 'java.lang.RuntimeException: boom',
    });
  });

  it('a message for a superseded stop request does nothing', async () => {
    const t = running();
    const requestedAt = await stopping(t, false);
    await new StopOnFlink({ ...t, settings }).run(
      t.id,
      { number: 1, final: false },
      new Date(requestedAt.getTime() - 1),
    );
    expect(t.executions.status(t.id)).to.equal('STOPPING');
    expect(t.flink.jobs.get(t.flinkJobId)?.state).to.equal('RUNNING');
  });

  it('a cancel of a job Flink no longer knows: LOST', async () => {
    const t = running();
    await stopping(t, false);
    t.flink.jobs.clear();
    await new StopOnFlink({ ...t, settings }).run(t.id, { number: 1, final: false });
    expect(t.executions.status(t.id)).to.equal('LOST');
  });
});
