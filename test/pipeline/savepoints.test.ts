import { randomUUID } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { assertHarnessIntegrity } from '../support/integrity';
import { PipelineHarness } from '../support/pipeline-harness';
import { waitFor } from '../support/wait';

const STREAMING = 'org.apache.flink.streaming.examples.windowing.TopSpeedWindowing';
const SAVEPOINTS = `file:///tmp/fo-test-savepoints-${randomUUID().slice(0, 8)}`;
const onDisk = (location: string) => fileURLToPath(location.replace(/^file:\/*/, 'file:///'));

describe('savepoints as records: taken, listed, restored from and disposed of, through the API, workers and the double', function () {
  this.timeout(120_000);
  const h = new PipelineHarness({ workers: 2, flink: { savepointDir: SAVEPOINTS } });
  before(() => h.start());
  after(() => h.stop());
  afterEach(() => assertHarnessIntegrity(h));

  const savepoint = async (jobId: string, id: string) =>
    (await h.http.get(`/api/v1/jobs/${jobId}/savepoints/${id}`)).body;
  const completed = (jobId: string, id: string) =>
    waitFor(`savepoint ${id} to complete`, async () => {
      const s = await savepoint(jobId, id);
      return s.status === 'COMPLETED' ? s : undefined;
    });

  it('a savepoint of a running job: 202 IN_PROGRESS, then COMPLETED with its location; the job goes on running', async () => {
    const job = await h.createJob(STREAMING);
    const running = await h.waitForStatus((await h.start202(job.id)).id, 'RUNNING');
    const res = await h.http.post(`/api/v1/jobs/${job.id}/savepoints`);
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    expect(res.body).to.include({ status: 'IN_PROGRESS', kind: 'manual', executionId: running.id, location: null });
    expect(res.headers.get('location')).to.equal(`/api/v1/jobs/${job.id}/savepoints/${res.body.id}`);
    const done = await completed(job.id, res.body.id);
    expect(done.location).to.match(/^file:\/+tmp\/fo-test-savepoints-[0-9a-f]+\/savepoint-/);
    expect(existsSync(onDisk(done.location))).to.equal(true);
    expect((await h.execution(running.id)).status).to.equal('RUNNING');
    expect((await h.execution(running.id)).savepoints).to.deep.equal([done.id]);
    expect(h.flink.savepointTriggers.filter((t) => t.jobId === running.flinkJobId).map((t) => t.kind)).to.deep.equal([
      'savepoint',
    ]);
    await h.http.post(`/api/v1/jobs/${job.id}/stop`);
    await h.waitForStatus(running.id, 'CANCELLED');
  });

  it('a stop with a savepoint is a record too; a start restores from a savepoint by id, which is then in use', async () => {
    const job = await h.createJob(STREAMING);
    const first = await h.waitForStatus((await h.start202(job.id)).id, 'RUNNING');
    const manual = await completed(job.id, (await h.http.post(`/api/v1/jobs/${job.id}/savepoints`)).body.id);
    await h.http.post(`/api/v1/jobs/${job.id}/stop`, { savepoint: true });
    const stopped = await h.waitForStatus(first.id, 'STOPPED');
    const list = (await h.http.get(`/api/v1/jobs/${job.id}/savepoints`)).body;
    expect(list.map((s: any) => [s.kind, s.status])).to.deep.equal([
      ['stop', 'COMPLETED'],
      ['manual', 'COMPLETED'],
    ]);
    expect(list[0].location).to.equal(stopped.savepointLocation);
    expect(stopped.savepoints).to.deep.equal([manual.id, list[0].id]);

    // The older, manual one, by id.
    const second = await h.waitForStatus((await h.start202(job.id, { restoreFrom: manual.id })).id, 'RUNNING');
    expect(second).to.include({ savepointId: manual.id, savepointPath: manual.location });
    expect(h.flink.job(second.flinkJobId)?.savepointPath).to.equal(manual.location);
    // Restored from by an active execution: kept.
    const inUse = await h.http.delete(`/api/v1/jobs/${job.id}/savepoints/${manual.id}`);
    expect(inUse.status).to.equal(409);
    expect(inUse.body.error.code).to.equal('savepoint_in_use');
    expect(inUse.body.error.message).to.contain(second.id);
    await h.http.post(`/api/v1/jobs/${job.id}/stop`);
    await h.waitForStatus(second.id, 'CANCELLED');
  });

  it('disposal goes through Flink: 202, then disposedAt once Flink removed the files; never the newest', async () => {
    const job = await h.createJob(STREAMING);
    const running = await h.waitForStatus((await h.start202(job.id)).id, 'RUNNING');
    const older = await completed(job.id, (await h.http.post(`/api/v1/jobs/${job.id}/savepoints`)).body.id);
    const newer = await completed(job.id, (await h.http.post(`/api/v1/jobs/${job.id}/savepoints`)).body.id);

    const newest = await h.http.delete(`/api/v1/jobs/${job.id}/savepoints/${newer.id}`);
    expect(newest.status).to.equal(409);
    expect(newest.body.error).to.include({ code: 'savepoint_in_use' });
    expect(newest.body.error.message).to.match(/newest/);

    const asked = await h.http.delete(`/api/v1/jobs/${job.id}/savepoints/${older.id}`);
    expect(asked.status, JSON.stringify(asked.body)).to.equal(202);
    expect(asked.body.disposalRequestedAt).to.be.a('string');
    const disposed = await waitFor('Flink to dispose of it', async () => {
      const s = await savepoint(job.id, older.id);
      return s.disposedAt ? s : undefined;
    });
    expect(disposed).to.include({ status: 'COMPLETED', disposalError: null });
    expect(existsSync(onDisk(older.location))).to.equal(false);
    expect(existsSync(onDisk(newer.location))).to.equal(true);
    expect(h.flink.disposalRequests).to.include(older.location);
    // Disposed of: nothing to restore from, nothing to dispose of again.
    const again = await h.http.delete(`/api/v1/jobs/${job.id}/savepoints/${older.id}`);
    expect(again.status).to.equal(202);
    expect(h.flink.disposalRequests.filter((p) => p === older.location)).to.have.length(1);
    await h.http.post(`/api/v1/jobs/${job.id}/stop`);
    await h.waitForStatus(running.id, 'CANCELLED');
    const refused = await h.http.post(`/api/v1/jobs/${job.id}/start`, { restoreFrom: older.id });
    expect(refused.status).to.equal(409);
    expect(refused.body.error.code).to.equal('savepoint_not_usable');
  });

  it('a stop-with-savepoint Flink forgot once it completed (operation cache expired) is STOPPED with its savepoint', async () => {
    const job = await h.createJob(STREAMING);
    const running = await h.waitForStatus((await h.start202(job.id)).id, 'RUNNING');
    // Each status poll of the stop's operation, once the job has FINISHED, finds Flink
    // having forgotten it: 404, as after `rest.async.operation-store-duration` or an HA restart.
    h.flink.setRequestHook((method, path) => {
      if (method === 'GET' && path.startsWith(`/jobs/${running.flinkJobId}/savepoints/`))
        if (h.flink.job(running.flinkJobId)?.state === 'FINISHED') h.flink.forgetOperations();
    });
    try {
      await h.http.post(`/api/v1/jobs/${job.id}/stop`, { savepoint: true });
      const stopped = await h.waitForStatus(running.id, 'STOPPED');
      expect(stopped.savepointLocation).to.match(/savepoint-/);
      expect(existsSync(onDisk(stopped.savepointLocation))).to.equal(true);
      const [record] = (await h.http.get(`/api/v1/jobs/${job.id}/savepoints`)).body;
      expect(record).to.include({ kind: 'stop', status: 'COMPLETED', location: stopped.savepointLocation });
    } finally {
      h.flink.setRequestHook(null);
    }
  });

  it('a disposal whose files are already gone (an earlier try removed them, its trigger id lost) is disposed, not failed', async () => {
    const job = await h.createJob(STREAMING);
    const running = await h.waitForStatus((await h.start202(job.id)).id, 'RUNNING');
    const older = await completed(job.id, (await h.http.post(`/api/v1/jobs/${job.id}/savepoints`)).body.id);
    await completed(job.id, (await h.http.post(`/api/v1/jobs/${job.id}/savepoints`)).body.id);
    // What a worker killed after Flink accepted the disposal, before it recorded the trigger
    // id, leaves behind: the files gone, the record still asking.
    rmSync(onDisk(older.location), { recursive: true, force: true });
    expect((await h.http.delete(`/api/v1/jobs/${job.id}/savepoints/${older.id}`)).status).to.equal(202);
    const disposed = await waitFor('the disposal to settle', async () => {
      const s = await savepoint(job.id, older.id);
      return s.disposedAt || s.disposalError ? s : undefined;
    });
    expect(disposed).to.include({ disposalError: null });
    expect(disposed.disposedAt).to.be.a('string');
    expect(h.flink.disposalRequests).to.include(older.location);
    await h.http.post(`/api/v1/jobs/${job.id}/stop`);
    await h.waitForStatus(running.id, 'CANCELLED');
  });

  it('bad requests: clear errors, nothing changed', async () => {
    const job = await h.createJob(STREAMING);
    const none = await h.http.post(`/api/v1/jobs/${job.id}/savepoints`);
    expect(none.status).to.equal(409);
    expect(none.body.error.code).to.equal('no_running_execution');
    expect((await h.http.get(`/api/v1/jobs/${job.id}/savepoints`)).body).to.deep.equal([]);
    for (const id of [randomUUID(), 'not-a-uuid']) {
      const missing = await h.http.get(`/api/v1/jobs/${job.id}/savepoints/${id}`);
      expect(missing.status).to.equal(404);
      expect(missing.body.error.code).to.equal('savepoint_not_found');
      expect((await h.http.delete(`/api/v1/jobs/${job.id}/savepoints/${id}`)).status).to.equal(404);
    }
    const unknownJob = await h.http.get(`/api/v1/jobs/${randomUUID()}/savepoints`);
    expect(unknownJob.body.error.code).to.equal('job_not_found');
    for (const restoreFrom of ['yesterday', 'relative/path', '']) {
      const res = await h.http.post(`/api/v1/jobs/${job.id}/start`, { restoreFrom });
      expect(res.status, restoreFrom).to.equal(400);
      expect(res.body.error.details[0].field).to.equal('restoreFrom');
    }
    const unknown = await h.http.post(`/api/v1/jobs/${job.id}/start`, { restoreFrom: randomUUID() });
    expect(unknown.status).to.equal(404);
    expect(unknown.body.error.code).to.equal('savepoint_not_found');
    expect((await h.http.get(`/api/v1/jobs/${job.id}/executions`)).body).to.deep.equal([]);
    for (const savepointRetention of [
      { keepLast: 0, maxAgeDays: 1 },
      { keepLast: 1 },
      { keepLast: 1, maxAgeDays: 1, x: 1 },
    ]) {
      const res = await h.http.put(`/api/v1/jobs/${job.id}`, { savepointRetention });
      expect(res.status, JSON.stringify(savepointRetention)).to.equal(400);
    }
    const set = await h.http.put(`/api/v1/jobs/${job.id}`, { savepointRetention: { keepLast: 2, maxAgeDays: 7 } });
    expect(set.body.savepointRetention).to.deep.equal({ keepLast: 2, maxAgeDays: 7 });
  });
});
