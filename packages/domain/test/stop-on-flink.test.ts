import { expect } from 'chai';
import { DEFAULT_OBSERVER_SETTINGS, flinkJobIdFor, ObserveCluster, StopOnFlink, TransientFailure } from '../src';
import { world } from './fakes';

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
