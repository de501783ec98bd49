import { expect } from 'chai';
import {
  AdvanceUpgrade,
  DependencyUnavailable,
  EnsureJarOnFlink,
  ExecutionActive,
  flinkJobIdFor,
  ManageJobs,
  PermanentFailure,
  RequestStop,
  RequestUpgrade,
  TransientFailure,
  UpgradeInProgress,
  ValidateOnFlink,
  type Execution,
  type UpgradeRequest,
} from '../..';
import { MemoryJarRegistry, oneJar, world } from '../../testing/fakes';

const SAVEPOINT = 'file:///sp/savepoint-abc123-0123456789ab';

function setup() {
  const w = world();
  const manageJobs = new ManageJobs(w.jobs, {} as never);
  const requests = new RequestUpgrade({ ...w, manageJobs });
  const stops = new RequestStop(w);
  const jars = new EnsureJarOnFlink(oneJar(), new MemoryJarRegistry(), w.log);
  const validation = new ValidateOnFlink({ ...w, jars, settings: { dataProcessorUrl: 'http://dp:8080' } });
  const advance = new AdvanceUpgrade({
    ...w,
    stops,
    validation,
    settings: { pollIntervalMs: 500, confirmMs: 10_000 },
  });
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
      step: 'validating',
      fromExecutionId: old.id,
      jobVersionBefore: 1,
    });
    expect(t.queue.sent.map((s) => s.message)).to.deep.equal([{ kind: 'upgrade', upgradeId: upgrade.id }]);

    // Step 1: Flink plans the new definition; then the stop with a savepoint is asked for; the upgrade waits for it.
    expect(await t.advance.run(upgrade.id)).to.equal(500);
    expect(t.flink.plans).to.have.length(1);
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
    expect(done.steps.map((s) => s.step)).to.deep.equal(['validating', 'stopping', 'stopping', 'starting', 'done']);
    expect(done.steps[2]?.detail).to.contain(SAVEPOINT);
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

  describe('the check on Flink before anything is stopped', () => {
    /** The old execution as the upgrade found it: RUNNING, no stop asked, no stop message sent. */
    const untouched = (t: ReturnType<typeof setup>, old: Execution) => {
      expect(t.row(old.id)).to.include({ status: 'RUNNING', stopRequest: null });
      expect(t.queue.kinds()).to.not.include('stop');
      expect(t.jobs.rows.get(t.job.id)).to.deep.include({ version: 1, config: { words: 'one' } });
    };

    it('plans the definition the upgrade would leave (changes over the job), arguments-only changes too', async () => {
      const t = setup();
      const old = t.running();
      const upgrade = await t.ask({ changes: { config: { words: 'two' }, parallelism: 3 } });
      await t.advance.run(upgrade.id);
      // Only config and parallelism changed: the job's own JAR and entry class are planned with them.
      expect(t.flink.plans).to.have.length(1);
      expect(t.flink.plans[0]).to.deep.include({
        entryClass: 'com.example.Main',
        programArgs: ['--words', 'two'],
        parallelism: 3,
      });
      expect(t.row(old.id).stopRequest).to.include({ savepoint: true });
      const during = (await t.upgrades.get(upgrade.id))!;
      expect(during.step).to.equal('stopping');
      expect(during.steps[0]).to.include({ step: 'validating' });
      expect(during.steps[0]?.detail).to.match(/^Flink \(cluster "default"\) planned the new definition from JAR /);
    });

    it('Flink refusing the program (main() throws, entry class missing): FAILED at validating, nothing stopped, the job as it was', async () => {
      const t = setup();
      const old = t.running();
      t.flink.plan = () =>
        Promise.reject(
          new PermanentFailure(
            'org.apache.flink.client.program.ProgramInvocationException: The main method caused an error: bad --words',
          ),
        );
      const upgrade = await t.ask({ changes: { entryClass: 'com.example.Other' } });
      expect(await t.advance.run(upgrade.id)).to.equal(null);
      const failed = (await t.upgrades.get(upgrade.id))!;
      expect(failed).to.include({ status: 'FAILED', step: 'validating', toExecutionId: null, stopRequestedAt: null });
      expect(failed.errorMessage).to.equal(
        'Flink (cluster "default") refused the new definition, its program: org.apache.flink.client.program.ProgramInvocationException: The main method caused an error: bad --words',
      );
      expect(failed.recovery).to.match(/^Nothing was stopped or changed: the old definition still runs\./);
      expect(failed.steps.map((s) => s.step)).to.deep.equal(['failed']);
      expect(t.flink.plans[0]?.entryClass).to.equal('com.example.Other');
      untouched(t, old);
    });

    it('Flink unreachable: the step throws for a retry, nothing stopped; the retry that reaches Flink goes on', async () => {
      const t = setup();
      const old = t.running();
      const planned = t.flink.plan;
      t.flink.plan = () => Promise.reject(new TransientFailure('Flink could not plan the job (HTTP 503): leader'));
      const upgrade = await t.ask();
      const thrown = await t.advance.run(upgrade.id, { number: 1, final: false }).catch((e: unknown) => e);
      expect(thrown).to.be.instanceOf(DependencyUnavailable);
      expect(thrown).to.include({ dependency: 'flink' });
      expect((await t.upgrades.get(upgrade.id))?.step).to.equal('validating');
      untouched(t, old);

      t.flink.plan = planned;
      expect(await t.advance.run(upgrade.id, { number: 2, final: false })).to.equal(500);
      expect((await t.upgrades.get(upgrade.id))?.step).to.equal('stopping');
      expect(t.row(old.id).stopRequest).to.include({ savepoint: true });
    });

    it('Flink still unreachable on the last try: FAILED saying so, nothing stopped', async () => {
      const t = setup();
      const old = t.running();
      t.flink.plan = () => Promise.reject(new TransientFailure('Flink could not plan the job (HTTP 503): leader'));
      const upgrade = await t.ask();
      expect(await t.advance.run(upgrade.id, { number: 8, final: true })).to.equal(null);
      const failed = (await t.upgrades.get(upgrade.id))!;
      expect(failed).to.include({ status: 'FAILED', step: 'validating' });
      expect(failed.errorMessage).to.equal(
        'The new definition could not be checked on Flink: flink is unreachable (Flink could not plan the job (HTTP 503): leader).',
      );
      expect(failed.recovery).to.contain('Upgrade again once flink is back.');
      untouched(t, old);
    });

    it('the job changed since the upgrade was asked: FAILED before the check, nothing stopped', async () => {
      const t = setup();
      const old = t.running();
      const upgrade = await t.ask();
      const job = t.jobs.rows.get(t.job.id)!;
      t.jobs.rows.set(job.id, { ...job, version: 2 });
      expect(await t.advance.run(upgrade.id)).to.equal(null);
      const failed = (await t.upgrades.get(upgrade.id))!;
      expect(failed).to.include({ status: 'FAILED', step: 'validating' });
      expect(failed.errorMessage).to.contain('version 2, the upgrade was based on 1');
      expect(t.flink.plans).to.deep.equal([]);
      expect(t.row(old.id)).to.include({ status: 'RUNNING', stopRequest: null });
    });

    it('crash-safe: a check whose step was not written is done again, then one stop is asked', async () => {
      const t = setup();
      t.running();
      const upgrade = await t.ask();
      const real = t.upgrades.advance.bind(t.upgrades);
      t.upgrades.advance = (id, from, patch, log) =>
        from === 'validating' ? Promise.reject(new Error('worker died')) : real(id, from, patch, log);
      expect(await t.advance.run(upgrade.id).catch((e: Error) => e.message)).to.equal('worker died');
      expect((await t.upgrades.get(upgrade.id))?.step).to.equal('validating');
      t.upgrades.advance = real;
      expect(await t.advance.run(upgrade.id)).to.equal(500);
      expect(t.flink.plans).to.have.length(2);
      expect(t.queue.kinds().filter((k) => k === 'stop')).to.have.length(1);
      expect((await t.upgrades.get(upgrade.id))?.steps.map((s) => s.step)).to.deep.equal(['validating', 'stopping']);
    });
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
