import { randomUUID } from 'node:crypto';
import { buildTestJar } from '@flink-orchestrator/flink-test-double';
import { expect } from 'chai';
import { assertHarnessIntegrity } from '../support/integrity';
import { PipelineHarness } from '../support/pipeline-harness';
import { seededChoices } from '../support/seeded';
import { waitFor } from '../support/wait';

const STREAMING = 'org.apache.flink.streaming.examples.windowing.TopSpeedWindowing';
const FINISHING = 'org.apache.flink.streaming.examples.wordcount.WordCount';

describe('start and stop through the workers (two worker processes, Flink test double)', function () {
  this.timeout(120_000);
  const h = new PipelineHarness({ workers: 2, flink: { savepointDir: 'file:///tmp/fo-test-savepoints' } });
  // JAR sizes: content no other test uploads (5000, jar-reuse's, is left out); TEST_SEED replays them.
  const random = seededChoices('start-stop');
  before(() => h.start());
  after(() => h.stop());
  afterEach(() => assertHarnessIntegrity(h));

  it('start → 202 QUEUED with Location → RUNNING with Flink job id → stop → CANCELLED, Flink CANCELED', async () => {
    const job = await h.createJob(STREAMING, { config: { speed: 5, mode: 'fast', debug: true }, parallelism: 2 });
    const res = await h.http.post(`/api/v1/jobs/${job.id}/start`);
    expect(res.status).to.equal(202);
    expect(res.headers.get('location')).to.equal(`/api/v1/executions/${res.body.id}`);
    expect(res.body).to.include({ jobId: job.id, trigger: 'manual', status: 'QUEUED', attempt: 0 });
    const running = await h.waitForStatus(res.body.id, 'RUNNING');
    expect(running.flinkJobId).to.equal(res.body.id.replace(/-/g, ''));
    expect(running.flinkJarId).to.match(/\.jar$/);
    expect(running.submittedAt).to.be.a('string');
    expect(running.startedAt).to.be.a('string');
    const onFlink = h.flink.job(running.flinkJobId);
    expect(onFlink?.state).to.equal('RUNNING');
    expect(onFlink?.programArgs).to.deep.equal(['--debug', 'true', '--mode', 'fast', '--speed', '5']);
    expect(onFlink?.entryClass).to.equal(STREAMING);
    expect(onFlink?.parallelism).to.equal(2);

    const again = await h.http.post(`/api/v1/jobs/${job.id}/start`);
    expect(again.status).to.equal(409);
    expect(again.body.error.code).to.equal('execution_active');
    expect(again.body.error.details.executionId).to.equal(res.body.id);

    const stop = await h.http.post(`/api/v1/jobs/${job.id}/stop`);
    expect(stop.status).to.equal(202);
    expect(stop.body).to.include({ id: res.body.id, status: 'STOPPING' });
    const cancelled = await h.waitForStatus(res.body.id, 'CANCELLED');
    expect(cancelled.finishedAt).to.be.a('string');
    expect(h.flink.job(running.flinkJobId)?.state).to.equal('CANCELED');

    const none = await h.http.post(`/api/v1/jobs/${job.id}/stop`);
    expect(none.status).to.equal(409);
    expect(none.body.error.code).to.equal('no_active_execution');
  });

  it('stop with savepoint → STOPPED with the location; restoreFrom latest-savepoint starts from it', async () => {
    const job = await h.createJob(STREAMING);
    const first = await h.start202(job.id);
    await h.waitForStatus(first.id, 'RUNNING');
    const stop = await h.http.post(`/api/v1/jobs/${job.id}/stop`, { savepoint: true });
    expect(stop.status).to.equal(202);
    const stopped = await h.waitForStatus(first.id, 'STOPPED');
    expect(stopped.savepointLocation).to.match(/^file:\/\/?\/tmp\/fo-test-savepoints\/savepoint-/);
    expect(h.flink.job(stopped.flinkJobId)?.state).to.equal('FINISHED');

    const second = await h.start202(job.id, { restoreFrom: 'latest-savepoint', allowNonRestoredState: true });
    expect(second.savepointPath).to.equal(stopped.savepointLocation);
    const running = await h.waitForStatus(second.id, 'RUNNING');
    expect(h.flink.job(running.flinkJobId)?.savepointPath).to.equal(stopped.savepointLocation);
    const run = h.flink.runRequests.find((r) => r.body.jobId === running.flinkJobId);
    expect(run?.body).to.include({ allowNonRestoredState: true, savepointPath: stopped.savepointLocation });
    expect(run?.body).not.to.have.property('programArgs');
    await h.http.post(`/api/v1/jobs/${job.id}/stop`);
    await h.waitForStatus(second.id, 'CANCELLED');
  });

  it('restoreFrom latest-savepoint without any savepoint → 409 no_savepoint, nothing created', async () => {
    const job = await h.createJob(STREAMING);
    const res = await h.http.post(`/api/v1/jobs/${job.id}/start`, { restoreFrom: 'latest-savepoint' });
    expect(res.status).to.equal(409);
    expect(res.body.error.code).to.equal('no_savepoint');
    expect((await h.http.get(`/api/v1/jobs/${job.id}/executions`)).body).to.deep.equal([]);
  });

  it('a job that finishes by itself → FINISHED', async () => {
    const job = await h.createJob(FINISHING);
    const execution = await h.start202(job.id);
    const finished = await h.waitForStatus(execution.id, 'FINISHED');
    expect(finished.finishedAt).to.be.a('string');
    expect(finished.errorMessage).to.equal(null);
  });

  it('a job that fails on Flink → FAILED with the root cause', async () => {
    const job = await h.createJob('com.example.FailingJob');
    const execution = await h.start202(job.id);
    const failed = await h.waitForStatus(execution.id, 'FAILED');
    expect(failed.errorMessage).to.contain('java.lang.IllegalStateException: Simulated failure in operator');
    expect(failed.errorMessage).not.to.contain('\n');
  });

  it("a wrong entry class → FAILED at once with Flink's message", async () => {
    const job = await h.createJob('com.example.Nope');
    const execution = await h.start202(job.id);
    const failed = await h.waitForStatus(execution.id, 'FAILED');
    expect(failed.errorMessage).to.match(/com\.example\.Nope/);
    expect(failed.errorMessage).not.to.match(/\n|\tat /);
    expect(h.flink.runRequests.filter((r) => r.body.jobId === failed.flinkJobId)).to.have.length(1);
  });

  it('a program that throws in main → FAILED with the cause', async () => {
    const job = await h.createJob('com.example.ThrowsInMain');
    const execution = await h.start202(job.id);
    const failed = await h.waitForStatus(execution.id, 'FAILED');
    expect(failed.errorMessage).to.match(/Could not execute application/);
    expect(failed.errorMessage).to.match(/Cause: /);
  });

  it('a JAR that 404s → FAILED at once, saying what the data-processor answered', async () => {
    const res = await h.http.post('/api/v1/jobs', {
      name: `missing-${randomUUID().slice(0, 8)}`,
      jarURL: h.data.urlOf('/jars/absent.jar'),
    });
    const execution = await h.start202(res.body.id);
    const failed = await h.waitForStatus(execution.id, 'FAILED');
    expect(failed.errorMessage).to.match(/answered HTTP 404/);
    expect(h.data.hits.get('/jars/absent.jar')).to.equal(1);
  });

  it('an answer that is not a JAR → FAILED, saying so', async () => {
    const jarURL = h.data.route('/jars/page.jar', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>login</html>');
    });
    const res = await h.http.post('/api/v1/jobs', { name: `html-${randomUUID().slice(0, 8)}`, jarURL });
    const failed = await h.waitForStatus((await h.start202(res.body.id)).id, 'FAILED');
    expect(failed.errorMessage).to.match(/did not answer with a JAR.*text\/html/);
  });

  it('Flink unavailable (503) then back → retried with backoff, then RUNNING', async () => {
    const job = await h.createJob(STREAMING);
    h.flink.setOutage('unavailable');
    const execution = await h.start202(job.id);
    await waitFor('a retry to be recorded', async () => (await h.execution(execution.id)).attempt >= 2, 20_000);
    const during = await h.execution(execution.id);
    expect(during.status).to.equal('SUBMITTING');
    expect(during.errorMessage).to.match(/503|unavailable|leader/i);
    h.flink.setOutage('none');
    const running = await h.waitForStatus(execution.id, 'RUNNING', 40_000);
    expect(running.errorMessage).to.equal(null);
    await h.http.post(`/api/v1/jobs/${job.id}/stop`);
    await h.waitForStatus(execution.id, 'CANCELLED');
  });

  it('a hundred starts of one JAR → one upload', async () => {
    // Content no other test uploads, so the count starts from nothing.
    const bytes = buildTestJar(FINISHING, random.distinctSize(5001, 4096));
    const uploadsBefore = h.flink.uploads;
    const jobs = [];
    for (let i = 0; i < 100; i++) jobs.push(await h.createJob(FINISHING, {}, { path: '/jars/shared.jar', bytes }));
    const executions = await Promise.all(jobs.map((j) => h.start202(j.id)));
    for (const e of executions) await h.waitForStatus(e.id, 'FINISHED', 60_000);
    expect(h.flink.uploads - uploadsBefore).to.equal(1);
    const jarIds = new Set(await Promise.all(executions.map(async (e) => (await h.execution(e.id)).flinkJarId)));
    expect(jarIds.size).to.equal(1);
  });

  it('an unchanged JAR (same strong ETag) is not downloaded again; a changed one, or one Flink lost, is', async () => {
    const path = `/jars/tagged-${randomUUID().slice(0, 8)}.jar`;
    const bytes = buildTestJar(FINISHING, random.distinctSize(5001, 4096));
    const job = await h.createJob(FINISHING, {}, { path, bytes, etag: '"v1"' });
    const run = async () => (await h.waitForStatus((await h.start202(job.id)).id, 'FINISHED')).flinkJarId;
    const firstJarId = await run();
    expect(await run()).to.equal(firstJarId);
    expect(await run()).to.equal(firstJarId);
    expect([h.data.hits.get(path), h.data.downloads.get(path)]).to.deep.equal([3, 1]);

    const uploads = h.flink.uploads;
    h.flink.restart(); // Flink loses its jars: the 304 is not enough, the bytes are fetched again
    const secondJarId = await run();
    expect(secondJarId).to.not.equal(firstJarId);
    expect([h.data.hits.get(path), h.data.downloads.get(path), h.flink.uploads]).to.deep.equal([5, 2, uploads + 1]);

    h.data.serveJar(path, buildTestJar(FINISHING, random.distinctSize(9100, 4096)), { etag: '"v2"' });
    expect(await run()).to.not.equal(secondJarId);
    expect([h.data.hits.get(path), h.data.downloads.get(path), h.flink.uploads]).to.deep.equal([6, 3, uploads + 2]);
  });

  it('a JobManager that lost its jars (restart) → the next start uploads again; running executions become LOST', async () => {
    const job = await h.createJob(STREAMING);
    const first = await h.start202(job.id);
    await h.waitForStatus(first.id, 'RUNNING');
    const uploads = h.flink.uploads;
    h.flink.restart();
    const lost = await h.waitForStatus(first.id, 'LOST');
    expect(lost.errorMessage).to.match(/no longer knows/);
    const second = await h.start202(job.id);
    await h.waitForStatus(second.id, 'RUNNING');
    expect(h.flink.uploads).to.equal(uploads + 1);
    await h.http.post(`/api/v1/jobs/${job.id}/stop`);
    await h.waitForStatus(second.id, 'CANCELLED');
  });

  it('a disabled job → 409 job_disabled; unknown job → 404', async () => {
    const job = await h.createJob(STREAMING, { enabled: false });
    const res = await h.http.post(`/api/v1/jobs/${job.id}/start`);
    expect(res.status).to.equal(409);
    expect(res.body.error.code).to.equal('job_disabled');
    expect((await h.http.post(`/api/v1/jobs/${randomUUID()}/start`)).status).to.equal(404);
    expect((await h.http.post(`/api/v1/jobs/${randomUUID()}/stop`)).status).to.equal(404);
  });

  it('start and stop bodies are validated', async () => {
    const job = await h.createJob(STREAMING);
    for (const body of [
      { parallelism: 0 },
      { restoreFrom: 'newest' },
      { savepointPath: '' },
      { savepointPath: '/a', restoreFrom: 'latest-savepoint' },
      { extra: 1 },
    ]) {
      const res = await h.http.post(`/api/v1/jobs/${job.id}/start`, body);
      expect(res.status, JSON.stringify(body)).to.equal(400);
      expect(res.body.error.code).to.equal('validation_failed');
    }
    expect((await h.http.get(`/api/v1/jobs/${job.id}/executions`)).body).to.deep.equal([]);
    const stop = await h.http.post(`/api/v1/jobs/${job.id}/stop`, { savepoint: 'yes' });
    expect(stop.status).to.equal(400);
  });

  it('deleting a job with an active execution → 409 execution_active', async () => {
    const job = await h.createJob(STREAMING);
    const execution = await h.start202(job.id);
    await h.waitForStatus(execution.id, 'RUNNING');
    const res = await h.http.delete(`/api/v1/jobs/${job.id}`);
    expect(res.status).to.equal(409);
    expect(res.body.error.code).to.equal('execution_active');
    await h.http.post(`/api/v1/jobs/${job.id}/stop`);
    await h.waitForStatus(execution.id, 'CANCELLED');
    expect((await h.http.delete(`/api/v1/jobs/${job.id}`)).status).to.equal(204);
  });

  it('executions list: newest first, paginated, filtered by status; GET /executions/:id', async () => {
    const job = await h.createJob(FINISHING);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const e = await h.start202(job.id);
      await h.waitForStatus(e.id, 'FINISHED');
      ids.push(e.id);
    }
    const page1 = await h.http.get(`/api/v1/jobs/${job.id}/executions?limit=2`);
    expect(page1.body.map((e: { id: string }) => e.id)).to.deep.equal([ids[4], ids[3]]);
    const next = /<([^>]+)>; rel="next"/.exec(page1.headers.get('link') ?? '')?.[1] as string;
    const page2 = await h.http.get(next);
    expect(page2.body.map((e: { id: string }) => e.id)).to.deep.equal([ids[2], ids[1]]);
    expect((await h.http.get(`/api/v1/jobs/${job.id}/executions?status=FINISHED`)).body).to.have.length(5);
    expect((await h.http.get(`/api/v1/jobs/${job.id}/executions?status=RUNNING`)).body).to.have.length(0);
    expect((await h.http.get(`/api/v1/jobs/${job.id}/executions?status=bogus`)).status).to.equal(400);
    const one = await h.http.get(`/api/v1/executions/${ids[0]}`);
    expect(one.body).to.include({ id: ids[0], jobId: job.id, status: 'FINISHED' });
    expect((await h.http.get(`/api/v1/executions/${randomUUID()}`)).body.error.code).to.equal('execution_not_found');
    expect((await h.http.get(`/api/v1/jobs/${randomUUID()}/executions`)).status).to.equal(404);
  });
});
