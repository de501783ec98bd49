import { randomUUID } from 'node:crypto';
import { buildTestJar } from '@flink-orchestrator/flink-test-double';
import { expect } from 'chai';
import { startApi } from '../support/api-process';
import { client } from '../support/http';
import { PipelineHarness } from '../support/pipeline-harness';
import { holdRunRequests } from '../support/run-gate';
import { REDIS_PREFIX } from '../support/test-env';
import { sleep, waitFor } from '../support/wait';
import type { ServiceProcess } from '../support/worker-processes';

const STREAMING = 'org.apache.flink.streaming.examples.windowing.TopSpeedWindowing';

/** How many jobs Flink accepted under this execution's JobID: the exactly-once check. */
function acceptedOnFlink(h: PipelineHarness, flinkJobId: string): number {
  return h.flink.submittedJobIds().filter((id) => id === flinkJobId).length;
}

describe('worker crashes and races (SIGKILL, stop racing start, Redis down)', function () {
  this.timeout(120_000);
  // One worker at a time, so the test knows which process holds the work it kills.
  const h = new PipelineHarness({
    workers: 1,
    flink: { savepointDir: 'file:///tmp/fo-test-savepoints', timing: { savepointMs: 2500 } },
  });
  before(() => h.start());
  after(async () => {
    h.flink.setRunDelayHook(null);
    h.flink.setLatency(0);
    await h.stop();
  });

  /** Kills the only worker and starts a fresh one, which inherits the work once the lock expires. */
  async function crashWorker(): Promise<ServiceProcess> {
    const victim = h.workers.shift() as ServiceProcess;
    await victim.kill('SIGKILL');
    const [replacement] = await h.addWorkers(1);
    h.workers.push(replacement as ServiceProcess);
    return replacement as ServiceProcess;
  }

  it('killed while downloading the JAR → another worker finishes; one Flink job', async () => {
    const bytes = buildTestJar(STREAMING, 200_000);
    const path = `/jars/slow-${randomUUID().slice(0, 6)}.jar`;
    const job = await h.createJob(STREAMING, {}, { path: '/jars/placeholder.jar', bytes });
    await h.http.put(`/api/v1/jobs/${job.id}`, { jarURL: h.data.serveJar(path, bytes, { chunkDelayMs: 200 }) });
    const execution = await h.start202(job.id);
    await waitFor('the download to begin', () => (h.data.hits.get(path) ?? 0) > 0);
    await crashWorker();
    const running = await h.waitForStatus(execution.id, 'RUNNING', 60_000);
    expect(acceptedOnFlink(h, running.flinkJobId)).to.equal(1);
    await h.http.post(`/api/v1/jobs/${job.id}/stop`);
    await h.waitForStatus(execution.id, 'CANCELLED');
  });

  it('killed while uploading to Flink → another worker finishes; one Flink job', async () => {
    const job = await h.createJob(STREAMING);
    h.flink.setLatency(2000);
    try {
      const execution = await h.start202(job.id);
      await waitFor('submission to begin', async () => (await h.execution(execution.id)).status === 'SUBMITTING');
      await sleep(500);
      await crashWorker();
      h.flink.setLatency(0);
      const running = await h.waitForStatus(execution.id, 'RUNNING', 60_000);
      expect(acceptedOnFlink(h, running.flinkJobId)).to.equal(1);
      await h.http.post(`/api/v1/jobs/${job.id}/stop`);
      await h.waitForStatus(execution.id, 'CANCELLED');
    } finally {
      h.flink.setLatency(0);
    }
  });

  it('killed while the run request is in flight → the next worker finds the job on Flink; one Flink job', async () => {
    const job = await h.createJob(STREAMING);
    const held = holdRunRequests(h.flink);
    const execution = await h.start202(job.id);
    await waitFor('the run request to reach Flink', () => held.arrived() > 0);
    held.stopHolding();
    await crashWorker();
    held.release();
    const running = await h.waitForStatus(execution.id, 'RUNNING', 60_000);
    expect(acceptedOnFlink(h, running.flinkJobId)).to.equal(1);
    await h.http.post(`/api/v1/jobs/${job.id}/stop`);
    await h.waitForStatus(execution.id, 'CANCELLED');
    expect(h.flink.job(running.flinkJobId)?.state).to.equal('CANCELED');
  });

  it('killed while tracking → another worker picks the tracking up and records the end', async () => {
    const job = await h.createJob(STREAMING);
    const execution = await h.start202(job.id);
    const running = await h.waitForStatus(execution.id, 'RUNNING');
    await crashWorker();
    h.flink.finishJob(running.flinkJobId);
    await h.waitForStatus(execution.id, 'FINISHED', 60_000);
  });

  it('killed during a stop with savepoint → another worker completes the same savepoint → STOPPED', async () => {
    const job = await h.createJob(STREAMING);
    const execution = await h.start202(job.id);
    const running = await h.waitForStatus(execution.id, 'RUNNING');
    await h.http.post(`/api/v1/jobs/${job.id}/stop`, { savepoint: true });
    await sleep(500);
    await crashWorker();
    const stopped = await h.waitForStatus(execution.id, 'STOPPED', 60_000);
    expect(stopped.savepointLocation)
      .to.be.a('string')
      .and.match(/savepoint-/);
    expect(h.flink.job(running.flinkJobId)?.state).to.equal('FINISHED');
  });

  it('a stop while the JAR downloads wins: CANCELLED, Flink never sees the job', async () => {
    const bytes = buildTestJar(STREAMING, 100_000);
    const job = await h.createJob(STREAMING, {}, { path: `/jars/slow-${randomUUID().slice(0, 6)}.jar`, bytes });
    const path = `/jars/slower-${randomUUID().slice(0, 6)}.jar`;
    await h.http.put(`/api/v1/jobs/${job.id}`, { jarURL: h.data.serveJar(path, bytes, { chunkDelayMs: 100 }) });
    const execution = await h.start202(job.id);
    await waitFor('the download to begin', () => (h.data.hits.get(path) ?? 0) > 0);
    const stop = await h.http.post(`/api/v1/jobs/${job.id}/stop`);
    expect(stop.status).to.equal(202);
    const cancelled = await h.waitForStatus(execution.id, 'CANCELLED');
    await sleep(500);
    expect(h.flink.runRequests.filter((r) => r.body.jobId === cancelled.flinkJobId)).to.have.length(0);
  });

  it('a stop while the run request is in flight wins: the job is cancelled on Flink as soon as it exists', async () => {
    const job = await h.createJob(STREAMING);
    const held = holdRunRequests(h.flink);
    const execution = await h.start202(job.id);
    await waitFor('the run request to reach Flink', () => held.arrived() > 0);
    held.stopHolding();
    const stop = await h.http.post(`/api/v1/jobs/${job.id}/stop`);
    expect(stop.body.status).to.equal('STOPPING');
    held.release();
    const cancelled = await h.waitForStatus(execution.id, 'CANCELLED');
    expect(h.flink.job(cancelled.flinkJobId)?.state).to.equal('CANCELED');
  });

  it('a stop while still QUEUED ends it at once; the worker never submits it', async () => {
    // An API on a queue no worker consumes keeps the execution QUEUED.
    const idle = await startApi({ QUEUE_PREFIX: `${REDIS_PREFIX}-idle` });
    try {
      const http = client(idle.url);
      const job = await h.createJob(STREAMING);
      const started = await http.post(`/api/v1/jobs/${job.id}/start`);
      expect(started.body.status).to.equal('QUEUED');
      const stop = await http.post(`/api/v1/jobs/${job.id}/stop`);
      expect(stop.status).to.equal(202);
      expect(stop.body.status).to.equal('CANCELLED');
      expect(h.flink.runRequests.filter((r) => r.body.jobId === started.body.id.replace(/-/g, ''))).to.have.length(0);
    } finally {
      await idle.close();
    }
  });

  it('Redis unreachable → start answers 503 and leaves no execution behind', async () => {
    const broken = await startApi({ REDIS_URL: 'redis://127.0.0.1:1' });
    try {
      const http = client(broken.url);
      const job = await h.createJob(STREAMING);
      const res = await http.post(`/api/v1/jobs/${job.id}/start`);
      expect(res.status).to.equal(503);
      expect(res.body.error.code).to.equal('dependency_unavailable');
      expect(res.body.error.message).to.match(/redis/);
      expect((await h.http.get(`/api/v1/jobs/${job.id}/executions`)).body).to.deep.equal([]);
    } finally {
      await broken.close();
    }
  });
});
