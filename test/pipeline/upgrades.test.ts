import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { assertHarnessIntegrity } from '../support/integrity';
import { PipelineHarness } from '../support/pipeline-harness';
import { waitFor } from '../support/wait';

const STREAMING = 'org.apache.flink.streaming.examples.windowing.TopSpeedWindowing';
const FAILING = 'org.example.FailingJob';

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
    expect(done.steps.map((s: { step: string }) => s.step)).to.deep.equal(['stopping', 'stopping', 'starting', 'done']);
    expect((await h.http.get(`/api/v1/jobs/${job.id}/upgrades`)).body.map((u: { id: string }) => u.id)).to.deep.equal([
      done.id,
    ]);
    await h.http.post(`/api/v1/jobs/${job.id}/stop`);
    await h.waitForStatus(started.id, 'CANCELLED');
  });

  it('the new definition failing on Flink: FAILED, naming the savepoint and the way back; the way back works', async () => {
    const job = await h.createJob(STREAMING);
    const old = await h.waitForStatus((await h.start202(job.id)).id, 'RUNNING');
    const res = await h.http.post(`/api/v1/jobs/${job.id}/upgrade`, { entryClass: FAILING });
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
    expect(failed.errorMessage).to.contain('state does not fit the new program');
    expect(failed.recovery).to.contain(`{"restoreFrom": "${failed.savepointId}"}`);
    expect((await h.execution(old.id)).status).to.equal('STOPPED');

    // The way back: the old definition, from the upgrade's savepoint.
    await h.http.put(`/api/v1/jobs/${job.id}`, { entryClass: STREAMING });
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
