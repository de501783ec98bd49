import { expect } from 'chai';
import {
  AdvanceUpgrade,
  ExecutionActive,
  flinkJobIdFor,
  ManageJobs,
  RequestStop,
  RequestUpgrade,
  UpgradeInProgress,
  type Execution,
  type UpgradeRequest,
} from '../src';
import { world } from './fakes';

const SAVEPOINT = 'file:///sp/savepoint-abc123-0123456789ab';

function setup() {
  const w = world();
  const manageJobs = new ManageJobs(w.jobs, {} as never);
  const requests = new RequestUpgrade({ ...w, manageJobs });
  const stops = new RequestStop(w);
  const advance = new AdvanceUpgrade({ ...w, stops, settings: { pollIntervalMs: 500, confirmMs: 10_000 } });
  const job = w.jobs.add({ config: { words: 'one' } });
  const running = (): Execution => {
    const e = w.executions.put({ jobId: job.id, status: 'RUNNING', startedAt: w.clock.now() });
    const withId = { ...e, flinkJobId: flinkJobIdFor(e.id) };
    w.executions.rows.set(e.id, withId);
    return withId;
  };
  const row = (id: string) => w.executions.rows.get(id)!;
  /** What the stop handler does once Flink stopped the job with a savepoint (and recorded it). */
  const stoppedWithSavepoint = async (id: string) => {
    await w.savepoints.begin({ jobId: job.id, executionId: id, cluster: 'default', kind: 'stop', triggerId: 't1' });
    const record = [...w.savepoints.rows.values()].find((s) => s.executionId === id)!;
    await w.savepoints.complete(record.id, SAVEPOINT, w.clock.now());
    w.executions.rows.set(id, { ...row(id), status: 'STOPPED', savepointLocation: SAVEPOINT, stopRequest: null });
    return record.id;
  };
  const ask = (request: Partial<UpgradeRequest> = {}) =>
    requests.run(job.id, {
      changes: { config: { words: 'two' } },
      mode: 'savepoint',
      allowNonRestoredState: false,
      ...request,
    });
  return { ...w, requests, advance, job, running, row, stoppedWithSavepoint, ask };
}

describe('upgrades that keep state (on fakes)', () => {
  it('stop with a savepoint → change the job → start from that savepoint → COMPLETED once the new one runs, each step logged', async () => {
    const t = setup();
    const old = t.running();
    const upgrade = await t.ask({ allowNonRestoredState: true });
    expect(upgrade).to.include({
      status: 'IN_PROGRESS',
      step: 'stopping',
      fromExecutionId: old.id,
      jobVersionBefore: 1,
    });
    expect(t.queue.sent.map((s) => s.message)).to.deep.equal([{ kind: 'upgrade', upgradeId: upgrade.id }]);

    // Step 1: the stop with a savepoint is asked for; the upgrade waits for it.
    expect(await t.advance.run(upgrade.id)).to.equal(500);
    expect(t.row(old.id)).to.deep.include({ status: 'STOPPING' });
    expect(t.row(old.id).stopRequest).to.include({ savepoint: true });
    expect(await t.advance.run(upgrade.id)).to.equal(500);
    expect(t.queue.kinds().filter((k) => k === 'stop')).to.have.length(1);

    // Step 2: stopped with savepoint S → the job changes, the new execution starts from S.
    const savepointId = await t.stoppedWithSavepoint(old.id);
    expect(await t.advance.run(upgrade.id)).to.equal(500);
    const during = (await t.upgrades.get(upgrade.id))!;
    expect(during).to.include({ step: 'confirming', savepointId, savepointLocation: SAVEPOINT, jobVersionAfter: 2 });
    expect(t.jobs.rows.get(t.job.id)?.config).to.deep.equal({ words: 'two' });
    const started = t.row(during.toExecutionId!);
    expect(started).to.include({
      trigger: 'upgrade',
      status: 'QUEUED',
      upgradeId: upgrade.id,
      savepointPath: SAVEPOINT,
      savepointId,
      allowNonRestoredState: true,
    });
    expect(started.definition?.config).to.deep.equal({ words: 'two' });
    expect(t.savepoints.rows.get(savepointId)?.kind).to.equal('upgrade');

    // Step 3: the new execution runs, and is still running 10 s later → COMPLETED.
    t.executions.rows.set(started.id, { ...started, status: 'RUNNING', startedAt: t.clock.now() });
    expect(await t.advance.run(upgrade.id)).to.equal(500);
    t.clock.advance(10_000);
    expect(await t.advance.run(upgrade.id)).to.equal(null);
    const done = (await t.upgrades.get(upgrade.id))!;
    expect(done).to.include({ status: 'COMPLETED', step: 'done', errorMessage: null });
    expect(done.steps.map((s) => s.step)).to.deep.equal(['stopping', 'stopping', 'starting', 'done']);
    expect(done.steps[1]?.detail).to.contain(SAVEPOINT);
  });

  it('the new definition failing: FAILED, saying the old one stopped with savepoint S, why the new one failed, and how to recover', async () => {
    const t = setup();
    const old = t.running();
    const upgrade = await t.ask();
    await t.advance.run(upgrade.id);
    const savepointId = await t.stoppedWithSavepoint(old.id);
    await t.advance.run(upgrade.id);
    const started = t.row((await t.upgrades.get(upgrade.id))!.toExecutionId!);
    t.executions.rows.set(started.id, {
      ...started,
      status: 'FAILED',
      errorMessage: 'java.lang.IllegalStateException: Failed to rollback to savepoint',
    });
    expect(await t.advance.run(upgrade.id)).to.equal(null);
    const failed = (await t.upgrades.get(upgrade.id))!;
    expect(failed).to.include({ status: 'FAILED', step: 'confirming' });
    expect(failed.errorMessage).to.equal(
      `The old execution stopped with savepoint ${SAVEPOINT}; the new execution ${started.id} ended FAILED: java.lang.IllegalStateException: Failed to rollback to savepoint`,
    );
    expect(failed.recovery).to.contain(`POST /api/v1/jobs/${t.job.id}/start {"restoreFrom": "${savepointId}"}`);
    expect(failed.steps.at(-1)).to.include({ step: 'failed' });
  });

  it('a stop that fails: FAILED with nothing changed (the old definition still runs)', async () => {
    const t = setup();
    const old = t.running();
    const upgrade = await t.ask();
    await t.advance.run(upgrade.id);
    // The stop handler gave up: the execution is RUNNING again, saying why.
    t.executions.rows.set(old.id, {
      ...t.row(old.id),
      status: 'RUNNING',
      stopRequest: null,
      errorMessage: 'Stop failed: Savepoint failed: Checkpoint expired before completing.',
    });
    expect(await t.advance.run(upgrade.id)).to.equal(null);
    const failed = (await t.upgrades.get(upgrade.id))!;
    expect(failed).to.include({ status: 'FAILED', step: 'stopping' });
    expect(failed.errorMessage).to.contain('Checkpoint expired before completing');
    expect(failed.recovery).to.match(/Nothing was changed/);
    expect(t.jobs.rows.get(t.job.id)).to.deep.include({ version: 1, config: { words: 'one' } });
  });

  it('crash-safe: the start step run again (its row not yet moved on) updates the job once and starts one execution', async () => {
    const t = setup();
    const old = t.running();
    const upgrade = await t.ask();
    await t.advance.run(upgrade.id);
    await t.stoppedWithSavepoint(old.id);
    // A worker does the start step and dies before writing that it did.
    const real = t.upgrades.advance.bind(t.upgrades);
    t.upgrades.advance = (id, from, patch, log) =>
      from === 'starting' ? Promise.reject(new Error('worker died')) : real(id, from, patch, log);
    expect(await t.advance.run(upgrade.id).catch((e: Error) => e.message)).to.equal('worker died');
    expect((await t.upgrades.get(upgrade.id))?.step).to.equal('starting');
    t.upgrades.advance = real;
    // Another worker takes it from the row: the start step again.
    expect(await t.advance.run(upgrade.id)).to.equal(500);
    const upgraded = [...t.executions.rows.values()].filter((e) => e.trigger === 'upgrade');
    expect(upgraded).to.have.length(1);
    expect(t.jobs.rows.get(t.job.id)?.version).to.equal(2);
    expect((await t.upgrades.get(upgrade.id))?.toExecutionId).to.equal(upgraded[0]?.id);
  });

  it('mode cancel: the old execution is cancelled and the new definition starts without state', async () => {
    const t = setup();
    const old = t.running();
    const upgrade = await t.ask({ mode: 'cancel' });
    await t.advance.run(upgrade.id);
    expect(t.row(old.id).stopRequest).to.include({ savepoint: false });
    t.executions.rows.set(old.id, { ...t.row(old.id), status: 'CANCELLED' });
    await t.advance.run(upgrade.id);
    const during = (await t.upgrades.get(upgrade.id))!;
    expect(t.row(during.toExecutionId!)).to.include({ savepointPath: null, savepointId: null, trigger: 'upgrade' });
  });

  it('nothing running: a plain update, recorded COMPLETED; busy or half-way: refused, nothing changed', async () => {
    const t = setup();
    const plain = await t.ask();
    expect(plain).to.include({ status: 'COMPLETED', step: 'done', fromExecutionId: null, jobVersionAfter: 2 });
    expect(t.jobs.rows.get(t.job.id)?.config).to.deep.equal({ words: 'two' });
    expect(t.queue.sent).to.deep.equal([]);

    const queued = t.executions.put({ jobId: t.job.id, status: 'QUEUED' });
    expect(await t.ask().catch((e: unknown) => e)).to.be.instanceOf(ExecutionActive);
    t.executions.rows.set(queued.id, { ...queued, status: 'CANCELLED' });

    t.running();
    await t.ask();
    expect(await t.ask().catch((e: unknown) => e)).to.be.instanceOf(UpgradeInProgress);
    expect(t.jobs.rows.get(t.job.id)?.version).to.equal(2);
  });
});
