import { expect } from 'chai';
import { assertHarnessIntegrity } from '../support/integrity';
import { ownDatabase } from '../support/own-database';
import { PipelineHarness } from '../support/pipeline-harness';
import { databaseUrl, REDIS_PREFIX, TEST_DATABASE } from '../support/test-env';
import { waitFor } from '../support/wait';
import { checkInvariants } from './support/invariants';

const STREAMING = 'org.apache.flink.streaming.examples.windowing.TopSpeedWindowing';

describe('fault: Flink down, slow, or lying', function () {
  this.timeout(180_000);
  // Scaled down for the suite's time: a 1 s client timeout stands for the 15 s default, 3 s latency for 30 s.
  // A database and queues of its own: executions the kill trials before it left active would
  // be resent to these workers by their reconciler and, at 3 s a Flink answer, crowd out the
  // one a case waits on.
  const own = {
    DATABASE_URL: databaseUrl(`${TEST_DATABASE}_flink_faults`),
    QUEUE_PREFIX: `${REDIS_PREFIX}-flink-faults`,
  };
  const h = new PipelineHarness({
    workers: 2,
    workerEnv: { ...own, FLINK_TIMEOUT_MS: '1000', RETRY_ATTEMPTS: '4' },
    apiEnv: { ...own, RETRY_ATTEMPTS: '4' },
  });
  let database: Awaited<ReturnType<typeof ownDatabase>>;
  before(async () => {
    database = await ownDatabase('flink_faults');
    await h.start();
  });
  after(async () => {
    h.flink.setOutage('none');
    h.flink.setLatency(0);
    await h.stop();
    await database?.drop();
  });
  afterEach(async () => {
    h.flink.setOutage('none');
    h.flink.setLatency(0);
    await assertHarnessIntegrity(h);
  });

  it('down (503 for good): retried with backoff, then FAILED saying Flink is unavailable', async () => {
    const job = await h.createJob(STREAMING);
    h.flink.setOutage('unavailable');
    const failed = await h.waitForStatus((await h.start202(job.id)).id, 'FAILED', 60_000);
    h.flink.setOutage('none');
    expect(failed.attempt).to.equal(4);
    expect(failed.errorMessage).to.match(/HTTP 503.*leader election/);
    await checkInvariants(h, [failed.id]);
  });

  it('refusing connections: FAILED saying Flink is unreachable', async () => {
    const job = await h.createJob(STREAMING);
    h.flink.setOutage('refuse');
    const failed = await h.waitForStatus((await h.start202(job.id)).id, 'FAILED', 60_000);
    h.flink.setOutage('none');
    // Which error the socket reports depends on when it was dropped: before the request
    // (ECONNRESET), or while the JAR upload was still writing to it (EPIPE).
    expect(failed.errorMessage ?? '').to.match(/^Flink at \S+ is unreachable \((ECONNRESET|ECONNREFUSED|EPIPE)\)/);
  });

  it('slow (answers after the client timeout): the outcome is marked unknown, then resolved from Flink', async () => {
    const job = await h.createJob(STREAMING);
    h.flink.setLatency(3000);
    const execution = await h.start202(job.id);
    const unknown = await waitFor(
      'the submission outcome to be marked unknown',
      async () => {
        const e = await h.execution(execution.id);
        return /Submission outcome unknown after 4 attempts/.test(e.errorMessage ?? '') ? e : undefined;
      },
      90_000,
    );
    expect(unknown.status).to.equal('RUNNING');
    expect(unknown.errorMessage).to.match(/unreachable \(ECONNABORTED\)/);
    h.flink.setLatency(0);
    await waitFor(
      'Flink to be asked again',
      async () => (await h.execution(execution.id)).flinkState === 'RUNNING',
      30_000,
    );
    expect((await h.execution(execution.id)).errorMessage).to.equal(null);
    await checkInvariants(h, [execution.id]);
    await h.http.post(`/api/v1/jobs/${job.id}/stop`);
    await h.waitForStatus(execution.id, 'CANCELLED');
  });

  it('lying (a running job vanishes): LOST, saying Flink no longer knows it', async () => {
    const job = await h.createJob(STREAMING);
    const running = await h.waitForStatus((await h.start202(job.id)).id, 'RUNNING');
    h.flink.forgetJob(running.flinkJobId);
    const lost = await h.waitForStatus(running.id, 'LOST');
    expect(lost.errorMessage).to.equal(
      `Flink no longer knows job ${running.flinkJobId} (JobManager restarted without HA, or the job expired).`,
    );
    await checkInvariants(h, [lost.id]);
  });

  it('unreachable while tracking: the execution stays RUNNING with flinkState UNREACHABLE, then recovers', async () => {
    const job = await h.createJob(STREAMING);
    const running = await h.waitForStatus((await h.start202(job.id)).id, 'RUNNING');
    h.flink.setOutage('unavailable');
    await waitFor(
      'the outage to be recorded',
      async () => (await h.execution(running.id)).flinkState === 'UNREACHABLE',
      20_000,
    );
    expect((await h.execution(running.id)).status).to.equal('RUNNING');
    h.flink.setOutage('none');
    await waitFor('the state to recover', async () => (await h.execution(running.id)).flinkState === 'RUNNING', 20_000);
    await h.http.post(`/api/v1/jobs/${job.id}/stop`);
    await h.waitForStatus(running.id, 'CANCELLED');
  });
});
