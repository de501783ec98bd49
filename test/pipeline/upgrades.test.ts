import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { assertHarnessIntegrity } from '../support/integrity';
import { PipelineHarness } from '../support/pipeline-harness';
import { waitFor } from '../support/wait';

const STREAMING = 'org.apache.flink.streaming.examples.windowing.TopSpeedWindowing';
// The double's main() of this class throws, as a program refusing its arguments does.
const THROWS_IN_MAIN = 'org.example.ThrowsInMainJob';

describe('upgrades that keep state, through the API, workers and the double', function () {
  this.timeout(120_000);
  const h = new PipelineHarness({
    workers: 2,
    flink: { savepointDir: `file:///tmp/fo-test-savepoints-${randomUUID().slice(0, 8)}` },
    // Long enough for the test to fail the new job before the upgrade calls it done.
    workerEnv: { UPGRADE_CONFIRM_MS: '3000' },
  });
  before(() => h.start());
  after(async () => {
    h.flink.failSavepoints(null);
    await h.stop();
  });
  /** The requests the double receives from now on, as "METHOD /path" (without /v1). */
  let received: string[] = [];
  beforeEach(() => {
    received = [];
    h.flink.setRequestHook((method, path) => void received.push(`${method} ${path}`));
  });
  afterEach(() => {
    h.flink.setRequestHook(null);
    h.flink.setUnavailableWhen(null);
  });
  const plans = () => received.filter((r) => /^POST \/jars\/[^/]+\/plan$/.test(r));
  /** Stop, cancel, savepoint or rescale requests for the Flink job: what an upgrade must not send before its check passes. */
  const touching = (flinkJobId: string) =>
    received
      .filter((r) => r.startsWith('POST /jobs/') || r.startsWith('PATCH /jobs/'))
      .filter((r) => r.includes(flinkJobId));
  afterEach(() => assertHarnessIntegrity(h));

  const finished = (id: string) =>
    waitFor(`upgrade ${id} to finish`, async () => {
      const u = (await h.http.get(`/api/v1/upgrades/${id}`)).body;
      return u.status === 'IN_PROGRESS' ? undefined : u;
    });

  it('a running job: stopped with a savepoint, changed, started from that savepoint; 202 then COMPLETED', async () => {
    const job = await h.createJob(STREAMING, { config: { speed: 1 } });
    const old = await h.waitForStatus((await h.start202(job.id)).id, 'RUNNING');
    const res = await h.http.post(`/api/v1/jobs/${job.id}/upgrade`, { config: { speed: 2 } });
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    expect(res.headers.get('location')).to.equal(`/api/v1/upgrades/${res.body.id}`);
    expect(res.body).to.include({ status: 'IN_PROGRESS', mode: 'savepoint', fromExecutionId: old.id });
    expect(res.body.changes).to.deep.equal({ config: { speed: 2 } });

    const done = await finished(res.body.id);
    expect(done).to.include({ status: 'COMPLETED', step: 'done', jobVersionBefore: 1, jobVersionAfter: 2 });
    const stopped = await h.execution(old.id);
    expect(stopped.status).to.equal('STOPPED');
    expect(done.savepointLocation).to.equal(stopped.savepointLocation);
    const started = await h.execution(done.toExecutionId);
    expect(started).to.include({
      trigger: 'upgrade',
      upgradeId: done.id,
      status: 'RUNNING',
      savepointId: done.savepointId,
    });
    expect(started.definition.programArgs).to.deep.equal(['--speed', '2']);
    // Flink restores the new job from the upgrade's savepoint.
    expect(h.flink.job(started.flinkJobId)?.savepointPath).to.equal(done.savepointLocation);
    const savepoint = (await h.http.get(`/api/v1/jobs/${job.id}/savepoints/${done.savepointId}`)).body;
    expect(savepoint).to.include({ kind: 'upgrade', status: 'COMPLETED', executionId: old.id });
    expect(done.steps.map((s: { step: string }) => s.step)).to.deep.equal([
      'validating',
      'stopping',
      'stopping',
      'starting',
      'done',
    ]);
    // Only the arguments changed, and the new definition was still planned on Flink before the stop.
    expect(received.indexOf(plans()[0] ?? 'none')).to.be.within(
      0,
      received.indexOf(`POST /jobs/${old.flinkJobId}/stop`),
    );
    expect((await h.http.get(`/api/v1/jobs/${job.id}/upgrades`)).body.map((u: { id: string }) => u.id)).to.deep.equal([
      done.id,
    ]);
    await h.http.post(`/api/v1/jobs/${job.id}/stop`);
    await h.waitForStatus(started.id, 'CANCELLED');
  });

  it('the new definition failing on Flink: FAILED, naming the savepoint and the way back; the way back works', async () => {
    const job = await h.createJob(STREAMING);
    const old = await h.waitForStatus((await h.start202(job.id)).id, 'RUNNING');
    // A new definition that runs, then fails on Flink for the reason given below (the double's
    // failing program would fail on its own too, racing that reason).
    const res = await h.http.post(`/api/v1/jobs/${job.id}/upgrade`, { config: { speed: 9 } });
    expect(res.status).to.equal(202);
    const started = await waitFor('the new execution', async () => {
      const u = (await h.http.get(`/api/v1/upgrades/${res.body.id}`)).body;
      return u.toExecutionId ? h.execution(u.toExecutionId) : undefined;
    });
    const running = await h.waitForStatus(started.id, 'RUNNING');
    h.flink.failJob(running.flinkJobId, 'java.lang.IllegalStateException: state does not fit the new program');
    const failed = await finished(res.body.id);
    expect(failed.status).to.equal('FAILED');
    expect(failed.errorMessage).to.contain(`stopped with savepoint ${failed.savepointLocation}`);
    expect(failed.errorMessage, failed.errorMessage).to.contain('state does not fit the new program');
    expect(failed.recovery).to.contain(`{"restoreFrom": "${failed.savepointId}"}`);
    expect((await h.execution(old.id)).status).to.equal('STOPPED');

    // The way back: the old definition, from the upgrade's savepoint.
    await h.http.put(`/api/v1/jobs/${job.id}`, { config: {} });
    const back = await h.waitForStatus((await h.start202(job.id, { restoreFrom: failed.savepointId })).id, 'RUNNING');
    expect(h.flink.job(back.flinkJobId)?.savepointPath).to.equal(failed.savepointLocation);
    await h.http.post(`/api/v1/jobs/${job.id}/stop`);
    await h.waitForStatus(back.id, 'CANCELLED');
  });

  it('a savepoint Flink refuses: FAILED at the stop step, nothing changed, the old definition still runs', async () => {
    const job = await h.createJob(STREAMING, { config: { speed: 1 } });
    const old = await h.waitForStatus((await h.start202(job.id)).id, 'RUNNING');
    h.flink.failSavepoints();
    try {
      const res = await h.http.post(`/api/v1/jobs/${job.id}/upgrade`, { config: { speed: 3 } });
      const failed = await finished(res.body.id);
      expect(failed).to.include({ status: 'FAILED', step: 'stopping', toExecutionId: null, savepointId: null });
      expect(failed.errorMessage).to.contain('Checkpoint expired before completing');
      expect(failed.recovery).to.match(/Nothing was changed/);
    } finally {
      h.flink.failSavepoints(null);
    }
    const current = (await h.http.get(`/api/v1/jobs/${job.id}`)).body;
    expect(current).to.deep.include({ version: 1, config: { speed: 1 } });
    expect((await h.execution(old.id)).status).to.equal('RUNNING');
    await h.http.post(`/api/v1/jobs/${job.id}/stop`);
    await h.waitForStatus(old.id, 'CANCELLED');
  });

  it('a new definition Flink refuses to plan (main() throws): FAILED before anything is stopped, the old one still runs', async () => {
    const job = await h.createJob(STREAMING, { config: { speed: 1 } });
    const old = await h.waitForStatus((await h.start202(job.id)).id, 'RUNNING');
    const res = await h.http.post(`/api/v1/jobs/${job.id}/upgrade`, {
      entryClass: THROWS_IN_MAIN,
      config: { speed: 5 },
    });
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    expect(res.body.step).to.equal('validating');
    const failed = await finished(res.body.id);
    expect(failed).to.include({ status: 'FAILED', step: 'validating', toExecutionId: null, savepointId: null });
    expect(failed.errorMessage).to.match(/^Flink \(cluster "default"\) refused the new definition, its program: /);
    expect(failed.errorMessage).to.contain('Simulated exception in main()');
    expect(failed.recovery).to.match(/^Nothing was stopped or changed: the old definition still runs\./);
    expect(plans()).to.have.length(1);
    // Nothing reached Flink for the running job: no stop, no savepoint, no cancel.
    expect(touching(old.flinkJobId)).to.deep.equal([]);
    expect(h.flink.savepointTriggers.filter((t) => t.jobId === old.flinkJobId)).to.deep.equal([]);
    expect(h.flink.job(old.flinkJobId)?.state).to.equal('RUNNING');
    expect(await h.execution(old.id)).to.include({ status: 'RUNNING', errorMessage: null });
    const current = (await h.http.get(`/api/v1/jobs/${job.id}`)).body;
    expect(current).to.deep.include({ version: 1, entryClass: STREAMING, config: { speed: 1 } });
    await h.http.post(`/api/v1/jobs/${job.id}/stop`);
    await h.waitForStatus(old.id, 'CANCELLED');
  });

  it('Flink answering 503 to the plan: the upgrade waits at validating, nothing stopped; once Flink plans it, COMPLETED', async () => {
    const job = await h.createJob(STREAMING, { config: { speed: 1 } });
    const old = await h.waitForStatus((await h.start202(job.id)).id, 'RUNNING');
    h.flink.setUnavailableWhen((method, path) => method === 'POST' && path.endsWith('/plan'));
    const res = await h.http.post(`/api/v1/jobs/${job.id}/upgrade`, { config: { speed: 4 } });
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    // Refused, then tried again: still at the check, the old execution untouched.
    await waitFor('the plan to be tried twice', () => plans().length >= 2);
    expect((await h.http.get(`/api/v1/upgrades/${res.body.id}`)).body).to.include({
      status: 'IN_PROGRESS',
      step: 'validating',
    });
    expect(touching(old.flinkJobId)).to.deep.equal([]);
    expect(h.flink.savepointTriggers.filter((t) => t.jobId === old.flinkJobId)).to.deep.equal([]);
    expect((await h.execution(old.id)).status).to.equal('RUNNING');

    h.flink.setUnavailableWhen(null);
    const done = await finished(res.body.id);
    expect(done, JSON.stringify(done)).to.include({ status: 'COMPLETED', jobVersionAfter: 2 });
    expect(done.steps[0]).to.include({ step: 'validating' });
    expect((await h.execution(old.id)).status).to.equal('STOPPED');
    const started = await h.execution(done.toExecutionId);
    expect(started.definition.programArgs).to.deep.equal(['--speed', '4']);
    await h.http.post(`/api/v1/jobs/${job.id}/stop`);
    await h.waitForStatus(started.id, 'CANCELLED');
  });

  it('nothing running: 200, a plain update; bad requests: clear errors, nothing changed', async () => {
    const job = await h.createJob(STREAMING);
    const plain = await h.http.post(`/api/v1/jobs/${job.id}/upgrade`, { parallelism: 2 });
    expect(plain.status, JSON.stringify(plain.body)).to.equal(200);
    expect(plain.body).to.include({ status: 'COMPLETED', fromExecutionId: null, jobVersionAfter: 2 });
    expect((await h.http.get(`/api/v1/jobs/${job.id}`)).body.parallelism).to.equal(2);

    for (const body of [{}, { mode: 'savepoint' }, { config: { a: 1 }, mode: 'later' }, { parallelism: 0 }]) {
      const res = await h.http.post(`/api/v1/jobs/${job.id}/upgrade`, body);
      expect(res.status, JSON.stringify(body)).to.equal(400);
      expect(res.body.error.code).to.equal('validation_failed');
    }
    expect((await h.http.get(`/api/v1/jobs/${job.id}`)).body.version).to.equal(2);
    expect((await h.http.get(`/api/v1/upgrades/${randomUUID()}`)).body.error.code).to.equal('upgrade_not_found');
    expect((await h.http.get('/api/v1/upgrades/nope')).status).to.equal(404);
    const unknownJob = await h.http.post(`/api/v1/jobs/${randomUUID()}/upgrade`, { parallelism: 1 });
    expect(unknownJob.body.error.code).to.equal('job_not_found');
  });
});
