import { expect } from 'chai';
import {
  DEFAULT_OBSERVER_SETTINGS,
  EnsureJarOnFlink,
  flinkJobIdFor,
  ObserveCluster,
  RestartAfterFailure,
  RestorePointUnknown,
  restartPolicyOf,
  SubmitToFlink,
  TransientFailure,
  type RestartPolicy,
} from '../..';
import { MemoryJarRegistry, oneJar, SUBMIT_SETTINGS, world } from '../../testing/fakes';

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
    expect(decision).to.deep.include({ decision: 'restarted', executionId: restart?.id });
    expect(decision).to.have.nested.property('restoreFrom.path', 'file:///cp/job/chk-7');
    expect(decision).to.have.nested.property('restoreFrom.kind', 'checkpoint');
    expect(t.executions.rows.get(failed.id)?.restartDecision).to.deep.equal(decision);
  });

  it('without a checkpoint: what the failed run restored from, unless a savepoint of the job is newer; else nothing', async () => {
    const t = setup();
    // A savepoint from before the failed run was created is older than what that run restored from.
    t.savepoints.put({ jobId: t.job.id, location: 'file:///sp/older', completedAt: t.clock.now() });
    t.clock.advance(1000);
    const restored = t.failure('FAILED', { savepointPath: 'file:///cp/from-start' });
    const decision = await t.restarts.run(restored.id);
    expect(decision).to.have.nested.property('restoreFrom.kind', 'restored');
    expect(t.restartsOf(restored.id)[0]?.savepointPath).to.equal('file:///cp/from-start');

    const u = setup();
    u.savepoints.put({ jobId: u.job.id, kind: 'stop', location: 'file:///sp/stopped' });
    u.clock.advance(1000);
    const plain = u.failure();
    expect(await u.restarts.run(plain.id)).to.have.nested.property('restoreFrom.kind', 'savepoint');
    expect(u.restartsOf(plain.id)[0]?.savepointPath).to.equal('file:///sp/stopped');

    const v = setup();
    const bare = v.failure();
    expect(await v.restarts.run(bare.id)).to.have.nested.property('restoreFrom.kind', 'none');
    expect(v.restartsOf(bare.id)[0]?.savepointPath).to.equal(null);
  });

  it('never rewinds: a savepoint taken during the failed run beats what that run started from', async () => {
    const t = setup();
    const failed = t.failure('FAILED', { savepointPath: 'file:///sp/the-start' });
    // The failed run took a periodic savepoint before it failed; no checkpoint was retained.
    t.clock.advance(60_000);
    const periodic = t.savepoints.put({
      jobId: t.job.id,
      kind: 'periodic',
      location: 'file:///sp/periodic',
      completedAt: t.clock.now(),
    });
    const decision = await t.restarts.run(failed.id);
    expect(decision).to.deep.include({ decision: 'restarted' });
    expect(decision).to.have.nested.property('restoreFrom.path', 'file:///sp/periodic');
    expect(decision).to.have.nested.property('restoreFrom.savepointId', periodic.id);
    expect(decision).to.have.nested.property('restoreFrom.reason').that.contains('newer than what the failed run');
    expect(t.restartsOf(failed.id)[0]).to.include({ savepointPath: 'file:///sp/periodic', savepointId: periodic.id });
  });

  it('restoreFrom latest-savepoint restores from the newest savepoint of the job, even with a checkpoint', async () => {
    const t = setup({ onFailure: 'restart', restoreFrom: 'latest-savepoint' });
    t.savepoints.put({ jobId: t.job.id, location: 'file:///sp/old', completedAt: t.clock.now() });
    t.clock.advance(1000);
    const newest = t.savepoints.put({ jobId: t.job.id, location: 'file:///sp/new', completedAt: t.clock.now() });
    const failed = t.failure('FAILED', { savepointPath: 'file:///sp/old' });
    t.flink.checkpoints.set(failed.flinkJobId, 'file:///cp/chk-9');
    expect(await t.restarts.run(failed.id)).to.have.nested.property('restoreFrom.savepointId', newest.id);
    expect(t.restartsOf(failed.id)[0]?.savepointPath).to.equal('file:///sp/new');

    // With no savepoint at all, what the failed run restored from.
    const u = setup({ onFailure: 'restart', restoreFrom: 'latest-savepoint' });
    const plain = u.failure('FAILED', { savepointPath: 'file:///cp/earlier' });
    expect(await u.restarts.run(plain.id)).to.have.nested.property('restoreFrom.kind', 'restored');
  });

  it('checkpoints that cannot be read leave the failure undecided (no older state), and the sweep decides it later', async () => {
    const t = setup();
    t.savepoints.put({ jobId: t.job.id, location: 'file:///sp/older', completedAt: t.clock.now() });
    t.clock.advance(1000);
    const failed = t.failure();
    const readCheckpoint = t.flink.latestCheckpoint.bind(t.flink);
    t.flink.latestCheckpoint = () => Promise.reject(new TransientFailure('connection refused'));
    let refused: unknown = null;
    await t.restarts.run(failed.id).catch((error: unknown) => (refused = error));
    expect(refused).to.be.instanceOf(RestorePointUnknown);
    expect(t.restartsOf(failed.id)).to.deep.equal([]);
    expect(t.executions.rows.get(failed.id)?.restartDecision).to.equal(null);
    // A sweep while Flink is still unreachable decides nothing and does not fail.
    expect(await t.restarts.sweep(new Date(0))).to.equal(1);
    expect(t.restartsOf(failed.id)).to.deep.equal([]);

    t.flink.latestCheckpoint = readCheckpoint;
    t.flink.checkpoints.set(failed.flinkJobId, 'file:///cp/chk-3');
    await t.restarts.sweep(new Date(0));
    expect(t.restartsOf(failed.id)[0]?.savepointPath).to.equal('file:///cp/chk-3');
    expect(t.executions.rows.get(failed.id)?.restartDecision).to.have.nested.property('restoreFrom.kind', 'checkpoint');
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
