import { randomUUID } from 'node:crypto';
import { buildTestJar } from '@flink-orchestrator/flink-test-double';
import { EXECUTIONS_QUEUE } from '@flink-orchestrator/queue-bullmq';
import { Queue } from 'bullmq';
import { expect } from 'chai';
import IORedis from 'ioredis';
import { startApi } from '../support/api-process';
import { client } from '../support/http';
import { PipelineHarness } from '../support/pipeline-harness';
import { Gate } from '../support/gate';
import { assertHarnessIntegrity, executionsOwning } from '../support/integrity';
import { holdRunRequests } from '../support/run-gate';
import { REDIS_PREFIX, REDIS_URL } from '../support/test-env';
import { waitFor } from '../support/wait';
import type { ServiceProcess } from '../support/worker-processes';

const STREAMING = 'org.apache.flink.streaming.examples.windowing.TopSpeedWindowing';
const flinkIdOf = (executionId: string) => executionId.replace(/-/g, '');

/**
 * What Flink received under this execution's JobID, as [outcome, answer delivered] per run
 * request. The exactly-once check proper (at most one accepted, every request explained)
 * runs after each test; this pins down what each crash must have produced.
 */
function runRequests(h: PipelineHarness, executionId: string): [string | null, boolean | null][] {
  return h.flink.runRequestsFor(flinkIdOf(executionId)).map((r) => [r.outcome, r.delivered]);
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
    h.flink.setRunAnswerHook(null);
    h.flink.setUploadHook(null);
    h.flink.setSavepointHook(null);
    await h.stop();
  });
  afterEach(() => assertHarnessIntegrity(h));

  async function row(executionId: string) {
    const [found] = await executionsOwning(h.databaseUrl, [flinkIdOf(executionId)]);
    return found;
  }

  /** Kills the only worker and starts a fresh one, which inherits the work once the lock expires. */
  async function crashWorker(): Promise<ServiceProcess> {
    const victim = h.workers.shift() as ServiceProcess;
    await victim.kill('SIGKILL');
    const [replacement] = await h.addWorkers(1);
    h.workers.push(replacement as ServiceProcess);
    return replacement as ServiceProcess;
  }

  it('killed while downloading the JAR → another worker downloads again and finishes; one run request', async () => {
    const gate = new Gate();
    const path = `/jars/slow-${randomUUID().slice(0, 6)}.jar`;
    const jarURL = h.data.serveJar(path, buildTestJar(STREAMING, 200_000), { gate });
    const job = await h.createJob(STREAMING, { jarURL });
    const execution = await h.start202(job.id);
    await waitFor('the download to be held halfway', () => gate.held.length === 1);
    expect(await row(execution.id)).to.include({ status: 'SUBMITTING', runRequestedAt: null });
    await crashWorker();
    gate.open();
    await h.waitForStatus(execution.id, 'RUNNING', 60_000);
    expect(gate.count(path), 'downloads').to.equal(2);
    expect(runRequests(h, execution.id)).to.deep.equal([['accepted', true]]);
    await h.http.post(`/api/v1/jobs/${job.id}/stop`);
    await h.waitForStatus(execution.id, 'CANCELLED');
  });

  it('killed while Flink holds the upload unanswered → another worker uploads again and finishes; one run request', async () => {
    const gate = new Gate();
    h.flink.setUploadHook(gate.pass);
    try {
      const path = `/jars/held-${randomUUID().slice(0, 6)}.jar`;
      const job = await h.createJob(STREAMING, {}, { path, bytes: buildTestJar(STREAMING, 3000) });
      const execution = await h.start202(job.id);
      const name = path.split('/').pop() as string;
      await waitFor('the upload to be held', () => gate.held.length === 1);
      expect(gate.held).to.deep.equal([name]);
      expect(await row(execution.id)).to.include({ status: 'SUBMITTING', runRequestedAt: null });
      await crashWorker();
      gate.open();
      await h.waitForStatus(execution.id, 'RUNNING', 60_000);
      expect(gate.count(name), 'uploads').to.equal(2);
      expect(runRequests(h, execution.id)).to.deep.equal([['accepted', true]]);
      await h.http.post(`/api/v1/jobs/${job.id}/stop`);
      await h.waitForStatus(execution.id, 'CANCELLED');
    } finally {
      h.flink.setUploadHook(null);
    }
  });

  it('killed while the run request is in flight → the next worker finds the job on Flink; one accepted', async () => {
    const job = await h.createJob(STREAMING);
    const held = holdRunRequests(h.flink);
    const execution = await h.start202(job.id);
    await waitFor('the run request to reach Flink', () => held.arrived() > 0);
    expect(held.jobIds()).to.deep.equal([flinkIdOf(execution.id)]);
    held.stopHolding();
    await crashWorker();
    held.release();
    const running = await h.waitForStatus(execution.id, 'RUNNING', 60_000);
    // The held request still got the job in, but its worker never heard the answer.
    expect(runRequests(h, execution.id)).to.deep.equal([['accepted', false]]);
    await h.http.post(`/api/v1/jobs/${job.id}/stop`);
    await h.waitForStatus(execution.id, 'CANCELLED');
    expect(h.flink.job(running.flinkJobId)?.state).to.equal('CANCELED');
  });

  it('killed after Flink took the job, before its answer arrived → the next worker finds it; no second request', async () => {
    const gate = new Gate();
    h.flink.setRunAnswerHook(gate.pass);
    try {
      const job = await h.createJob(STREAMING);
      const execution = await h.start202(job.id);
      await waitFor('Flink to take the job', () => gate.held.length === 1);
      expect(h.flink.job(flinkIdOf(execution.id))?.state).to.equal('RUNNING');
      expect((await row(execution.id))?.status).to.equal('SUBMITTING');
      await crashWorker();
      gate.open();
      await h.waitForStatus(execution.id, 'RUNNING', 60_000);
      expect(runRequests(h, execution.id)).to.deep.equal([['accepted', false]]);
      await h.http.post(`/api/v1/jobs/${job.id}/stop`);
      await h.waitForStatus(execution.id, 'CANCELLED');
    } finally {
      h.flink.setRunAnswerHook(null);
    }
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
    const gate = new Gate();
    h.flink.setSavepointHook(gate.pass);
    try {
      await h.http.post(`/api/v1/jobs/${job.id}/stop`, { savepoint: true });
      await waitFor('the savepoint to be in progress', () => gate.held.length === 1);
      expect(gate.held).to.deep.equal([running.flinkJobId]);
      await crashWorker();
      gate.open();
      const stopped = await h.waitForStatus(execution.id, 'STOPPED', 60_000);
      expect(stopped.savepointLocation)
        .to.be.a('string')
        .and.match(/savepoint-/);
      expect(h.flink.job(running.flinkJobId)?.state).to.equal('FINISHED');
      const triggers = h.flink.savepointTriggers.filter((t) => t.jobId === running.flinkJobId);
      expect(
        triggers.map((t) => t.created),
        'the second worker asked for the same operation',
      ).to.deep.equal([true, false]);
    } finally {
      h.flink.setSavepointHook(null);
    }
  });

  it('a stop while the JAR downloads wins: CANCELLED, Flink never sees the job', async () => {
    const gate = new Gate();
    const path = `/jars/slower-${randomUUID().slice(0, 6)}.jar`;
    const jarURL = h.data.serveJar(path, buildTestJar(STREAMING, 100_000), { gate });
    const job = await h.createJob(STREAMING, { jarURL });
    const execution = await h.start202(job.id);
    await waitFor('the download to be held halfway', () => gate.held.length === 1);
    const stop = await h.http.post(`/api/v1/jobs/${job.id}/stop`);
    expect(stop.status).to.equal(202);
    expect(stop.body.status).to.equal('STOPPING');
    gate.open();
    // The submitting worker itself records CANCELLED, at the point where it would have asked
    // Flink, and sends nothing after that.
    await h.waitForStatus(execution.id, 'CANCELLED');
    expect(await row(execution.id)).to.include({ runRequestedAt: null });
    expect(runRequests(h, execution.id)).to.deep.equal([]);
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

  it('a stop while still QUEUED ends it at once; the worker that then takes its message never submits it', async () => {
    // The executions queue paused: the start's message waits in Redis, and the worker takes
    // it only once the stop is recorded. A worker ignoring the stop would submit it then.
    const redis = new IORedis(REDIS_URL, { maxRetriesPerRequest: null });
    const queue = new Queue(EXECUTIONS_QUEUE, { connection: redis, prefix: REDIS_PREFIX });
    await queue.pause();
    try {
      const job = await h.createJob(STREAMING);
      const started = await h.start202(job.id);
      expect(started.status).to.equal('QUEUED');
      const message = await queue.getJob(`submit-${started.id}`);
      expect(await message?.getState()).to.equal('waiting');
      const stop = await h.http.post(`/api/v1/jobs/${job.id}/stop`);
      expect(stop.status).to.equal(202);
      expect(stop.body.status).to.equal('CANCELLED');

      await queue.resume();
      await waitFor('the worker to have handled the submit message', async () =>
        (await queue.getJob(`submit-${started.id}`))?.isCompleted(),
      );
      expect(runRequests(h, started.id)).to.deep.equal([]);
      expect(h.flink.job(flinkIdOf(started.id))).to.equal(undefined);
      expect(await h.execution(started.id)).to.include({ status: 'CANCELLED', flinkJobId: null, flinkJarId: null });
    } finally {
      await queue.resume();
      await queue.close();
      redis.disconnect();
    }
  });

  it('Redis unreachable → start answers 503 and leaves no execution behind', async () => {
    const broken = await startApi({ REDIS_URL: 'redis://127.0.0.1:1', FLINK_JOBMANAGER_URL: h.flink.url });
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
