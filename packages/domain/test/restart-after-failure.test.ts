import { expect } from 'chai';
import {
  DEFAULT_OBSERVER_SETTINGS,
  EnsureJarOnFlink,
  flinkJobIdFor,
  ObserveCluster,
  RestartAfterFailure,
  restartPolicyOf,
  SubmitToFlink,
  TransientFailure,
  type RestartPolicy,
} from '../src';
import { MemoryJarRegistry, oneJar, SUBMIT_SETTINGS, world } from './fakes';

function setup(policy: Partial<RestartPolicy> = { onFailure: 'restart' }) {
  const w = world();
  const restarts = new RestartAfterFailure(w);
  const job = w.jobs.add({ restartPolicy: restartPolicyOf(policy) });
  /** An execution that ran on Flink and ended `status` just now. */
  const failure = (status: 'FAILED' | 'LOST' = 'FAILED', fields: { savepointPath?: string | null } = {}) => {
    const e = w.executions.put({
      jobId: job.id,
      status,
      parallelism: 3,
      startedAt: w.clock.now(),
      finishedAt: w.clock.now(),
      ...fields,
    });
    const flinkJobId = flinkJobIdFor(e.id);
    w.executions.rows.set(e.id, { ...e, flinkJobId });
    return { id: e.id, flinkJobId };
  };
  const restartsOf = (id: string) => [...w.executions.rows.values()].filter((e) => e.restartOf === id);
  return { ...w, restarts, job, failure, restartsOf };
}

describe('RestartAfterFailure: a failed execution replaced per the job policy (on fakes)', () => {
  it("restarts from the failed job's latest checkpoint, after the backoff, and records the decision", async () => {
    const t = setup({ onFailure: 'restart', backoffSeconds: 10 });
    const failed = t.failure();
    t.flink.checkpoints.set(failed.flinkJobId, 'file:///cp/job/chk-7');
    const decision = await t.restarts.run(failed.id);

    const [restart] = t.restartsOf(failed.id);
    expect(restart).to.include({ trigger: 'restart', status: 'QUEUED', savepointPath: 'file:///cp/job/chk-7' });
    expect(restart?.parallelism).to.equal(3);
    expect(restart?.notBefore?.getTime()).to.equal(t.clock.now().getTime() + 10_000);
    expect(t.queue.sent).to.deep.equal([{ message: { kind: 'submit', executionId: restart?.id }, delayMs: 10_000 }]);
    expect(decision).to.deep.include({
      decision: 'restarted',
      executionId: restart?.id,
      restoreFrom: { kind: 'checkpoint', path: 'file:///cp/job/chk-7' },
    });
    expect(t.executions.rows.get(failed.id)?.restartDecision).to.deep.equal(decision);
  });

  it('falls back to what the failed run restored from, then to the latest savepoint, then to nothing', async () => {
    const t = setup();
    const restored = t.failure('FAILED', { savepointPath: 'file:///sp/from-start' });
    expect((await t.restarts.run(restored.id))?.decision).to.equal('restarted');
    expect(t.restartsOf(restored.id)[0]?.savepointPath).to.equal('file:///sp/from-start');

    const u = setup();
    u.savepoints.put({ jobId: u.job.id, kind: 'stop', location: 'file:///sp/stopped' });
    const plain = u.failure();
    await u.restarts.run(plain.id);
    expect(u.restartsOf(plain.id)[0]?.savepointPath).to.equal('file:///sp/stopped');

    const v = setup();
    // Flink cannot be asked: the checkpoint is unknown, so the fallbacks decide.
    v.flink.latestCheckpoint = () => Promise.reject(new TransientFailure('connection refused'));
    const bare = v.failure();
    expect(await v.restarts.run(bare.id)).to.deep.include({ restoreFrom: { kind: 'none', path: null } });
    expect(v.restartsOf(bare.id)[0]?.savepointPath).to.equal(null);
  });

  it('makes exactly one restart per failure, however often it is asked (the observer, the sweep, a crash between)', async () => {
    const t = setup();
    const failed = t.failure();
    await t.restarts.run(failed.id);
    // A crash after the restart was created but before the decision was written: the sweep asks again.
    t.executions.rows.set(failed.id, { ...t.executions.rows.get(failed.id)!, restartDecision: null });
    const again = await t.restarts.sweep(new Date(0));
    expect(again).to.equal(1);
    await t.restarts.run(failed.id);
    expect(t.restartsOf(failed.id)).to.have.length(1);
    expect(t.executions.rows.get(failed.id)?.restartDecision).to.deep.include({
      decision: 'restarted',
      executionId: t.restartsOf(failed.id)[0]?.id,
    });
    expect(await t.restarts.sweep(new Date(0))).to.equal(0);
  });

  it('a crash after the last allowed restart was made still records it as restarted, not as past maxRestarts', async () => {
    const t = setup({ onFailure: 'restart', maxRestarts: 1 });
    const failed = t.failure();
    await t.restarts.run(failed.id);
    t.executions.rows.set(failed.id, { ...t.executions.rows.get(failed.id)!, restartDecision: null });
    expect(await t.restarts.run(failed.id)).to.deep.include({ decision: 'restarted' });
    expect(t.restartsOf(failed.id)).to.have.length(1);
  });

  it('stops after maxRestarts within the window, says why, and restarts again once the window has passed', async () => {
    const t = setup({ onFailure: 'restart', maxRestarts: 2, withinMinutes: 60 });
    for (let i = 0; i < 2; i++) {
      const failed = t.failure();
      expect((await t.restarts.run(failed.id))?.decision).to.equal('restarted');
      // The restart ran and failed in turn.
      const restart = t.restartsOf(failed.id)[0]!;
      t.executions.rows.set(restart.id, { ...restart, status: 'FAILED', finishedAt: t.clock.now() });
      t.clock.advance(60_000);
    }
    const third = t.failure();
    const decision = await t.restarts.run(third.id);
    expect(decision).to.deep.include({
      decision: 'exhausted',
      reason: 'Not restarted: 2 restarts in the last 60 minutes already (maxRestarts 2).',
    });
    expect(t.restartsOf(third.id)).to.deep.equal([]);

    t.clock.advance(61 * 60_000);
    const later = t.failure();
    expect((await t.restarts.run(later.id))?.decision).to.equal('restarted');
  });

  it('leaves alone what the policy does not cover: never, LOST without onLost, a run that never started', async () => {
    const never = setup({ onFailure: 'never' });
    expect(await never.restarts.run(never.failure().id)).to.equal(null);

    const t = setup({ onFailure: 'restart' });
    expect(await t.restarts.run(t.failure('LOST').id)).to.equal(null);
    const unstarted = t.executions.put({ jobId: t.job.id, status: 'FAILED', finishedAt: t.clock.now() });
    expect(await t.restarts.run(unstarted.id)).to.equal(null);
    expect(t.queue.sent).to.deep.equal([]);

    const lost = setup({ onLost: 'restart' });
    expect((await lost.restarts.run(lost.failure('LOST').id))?.decision).to.equal('restarted');
  });

  it('skips, saying why, when another execution is active or the job is disabled', async () => {
    const t = setup();
    const failed = t.failure();
    const manual = t.executions.put({ jobId: t.job.id, status: 'RUNNING' });
    expect(await t.restarts.run(failed.id)).to.deep.include({
      decision: 'skipped',
      reason: `Not restarted: execution ${manual.id} is already RUNNING.`,
    });

    const u = setup();
    u.jobs.rows.set(u.job.id, { ...u.job, enabled: false });
    expect(await u.restarts.run(u.failure().id)).to.deep.include({
      decision: 'skipped',
      reason: 'The job is disabled.',
    });
  });

  it('is applied by the observer as it records a FAILED end, and a failing restart never fails the tick', async () => {
    const t = setup();
    const running = t.executions.put({ jobId: t.job.id, status: 'RUNNING', startedAt: t.clock.now() });
    const flinkJobId = flinkJobIdFor(running.id);
    t.executions.rows.set(running.id, { ...running, flinkJobId, runRequestedAt: t.clock.now() });
    t.flink.jobs.set(flinkJobId, { state: 'FAILED' });
    t.flink.checkpoints.set(flinkJobId, 'file:///cp/chk-1');
    const observer = new ObserveCluster({
      ...t,
      cluster: 'default',
      settings: { ...DEFAULT_OBSERVER_SETTINGS, lostGraceMs: 1000 },
      restarts: t.restarts,
    });
    await observer.tick();
    expect(t.executions.rows.get(running.id)?.status).to.equal('FAILED');
    expect(t.restartsOf(running.id)[0]).to.include({ savepointPath: 'file:///cp/chk-1' });

    const broken = new ObserveCluster({
      ...t,
      cluster: 'default',
      settings: { ...DEFAULT_OBSERVER_SETTINGS, lostGraceMs: 1000 },
      restarts: { run: () => Promise.reject(new Error('PostgreSQL went away')) },
    });
    const other = t.executions.put({ jobId: t.job.id, status: 'RUNNING', startedAt: t.clock.now() });
    t.executions.rows.set(other.id, { ...other, flinkJobId: flinkJobIdFor(other.id), runRequestedAt: t.clock.now() });
    t.flink.jobs.set(flinkJobIdFor(other.id), { state: 'FAILED' });
    expect(await broken.tick()).to.include({ reachable: true, ended: 1 });
  });

  it('holds the restart back until its backoff has passed, whoever delivers the message', async () => {
    const t = setup({ onFailure: 'restart', backoffSeconds: 30 });
    const submit = new SubmitToFlink({
      ...t,
      jars: new EnsureJarOnFlink(oneJar(), new MemoryJarRegistry(), t.log),
      settings: SUBMIT_SETTINGS,
    });
    const failed = t.failure();
    const decision = await t.restarts.run(failed.id);
    const restartId = decision?.decision === 'restarted' ? decision.executionId : '';
    t.clock.advance(5_000);
    // A message delivered early (the reconciler's, a redelivery) comes back for the rest of the backoff.
    expect(await submit.run(restartId, { number: 1, final: false })).to.equal(25_000);
    expect(t.executions.rows.get(restartId)?.status).to.equal('QUEUED');
    expect(t.flink.runs).to.deep.equal([]);
    t.clock.advance(25_000);
    expect(await submit.run(restartId, { number: 1, final: false })).to.equal(null);
    expect(t.executions.rows.get(restartId)?.status).to.equal('RUNNING');
    expect(t.flink.runs[0]?.savepointPath).to.equal(null);
  });

  it('fills in the defaults of a policy given in part', () => {
    expect(restartPolicyOf(null)).to.deep.equal({
      onFailure: 'never',
      onLost: 'never',
      maxRestarts: 3,
      withinMinutes: 60,
      backoffSeconds: 10,
      restoreFrom: 'latest-checkpoint',
    });
    expect(restartPolicyOf({ onFailure: 'restart', maxRestarts: 1 })).to.include({
      onFailure: 'restart',
      maxRestarts: 1,
      withinMinutes: 60,
    });
  });
});
