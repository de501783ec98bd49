import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { flinkJobIdFor, StopOnFlink, TransientFailure } from '@flink-orchestrator/domain';
import { FlinkRestClient } from '@flink-orchestrator/flink-rest';
import { buildTestJar, FlinkTestDouble } from '@flink-orchestrator/flink-test-double';
import { createLogger, systemClock } from '@flink-orchestrator/observability';
import {
  connect,
  KnexExecutionRepository,
  KnexJobRepository,
  KnexSavepointRepository,
  type Knex,
} from '@flink-orchestrator/postgres';
import { expect } from 'chai';
import { localJar } from '../../packages/flink-rest/test/flink-gateway-contract';
import { Gate } from '../support/gate';
import { assertHarnessIntegrity } from '../support/integrity';
import { PipelineHarness } from '../support/pipeline-harness';
import { databaseUrl } from '../support/test-env';
import { waitFor } from '../support/wait';

const STREAMING = 'org.apache.flink.streaming.examples.windowing.TopSpeedWindowing';
const ATTEMPTS = 3;

describe('a stop that fails for good: the execution is RUNNING again and tracked again', function () {
  this.timeout(120_000);
  const h = new PipelineHarness({
    workers: 1,
    flink: { savepointDir: 'file:///tmp/fo-test-savepoints' },
    // The API sends the stop message, so its retry policy is the one that counts.
    apiEnv: { RETRY_ATTEMPTS: String(ATTEMPTS) },
    workerEnv: { RETRY_ATTEMPTS: String(ATTEMPTS) },
  });
  before(() => h.start());
  after(async () => {
    h.flink.failSavepoints(null);
    h.flink.setOutage('none');
    h.flink.setRequestHook(null);
    await h.stop();
  });
  afterEach(() => assertHarnessIntegrity(h));

  async function running() {
    const job = await h.createJob(STREAMING);
    return { job, execution: await h.waitForStatus((await h.start202(job.id)).id, 'RUNNING') };
  }

  it('a savepoint that Flink fails → RUNNING with "Stop failed: Savepoint failed: …", not retried; the job then finishes', async () => {
    const { job, execution } = await running();
    h.flink.failSavepoints();
    try {
      const stop = await h.http.post(`/api/v1/jobs/${job.id}/stop`, { savepoint: true });
      expect(stop.body.status).to.equal('STOPPING');
      const back = await waitFor('the stop to fail', async () => {
        const e = await h.execution(execution.id);
        return e.status === 'RUNNING' && e.errorMessage ? e : undefined;
      });
      expect(back.errorMessage).to.equal(
        'Stop failed: Savepoint failed: org.apache.flink.runtime.checkpoint.CheckpointException: Checkpoint expired before completing.',
      );
      expect(back.savepointLocation).to.equal(null);
      // A failed savepoint is final: one operation, not one per retry.
      const triggers = h.flink.savepointTriggers.filter((t) => t.jobId === execution.flinkJobId);
      expect(triggers).to.have.length(1);
      expect(h.flink.job(execution.flinkJobId)?.state).to.equal('RUNNING');
    } finally {
      h.flink.failSavepoints(null);
    }
    // Tracked again: the job's end on Flink is recorded.
    h.flink.finishJob(execution.flinkJobId);
    await h.waitForStatus(execution.id, 'FINISHED');
  });

  it('a stop after that works: the stop request was cleared, so a new one is taken', async () => {
    const { job, execution } = await running();
    h.flink.failSavepoints();
    try {
      await h.http.post(`/api/v1/jobs/${job.id}/stop`, { savepoint: true });
      await waitFor('the stop to fail', async () => (await h.execution(execution.id)).errorMessage);
    } finally {
      h.flink.failSavepoints(null);
    }
    const again = await h.http.post(`/api/v1/jobs/${job.id}/stop`, { savepoint: true });
    expect(again.status).to.equal(202);
    const stopped = await h.waitForStatus(execution.id, 'STOPPED');
    expect(stopped.savepointLocation).to.match(/savepoint-/);
  });

  it(`a cancel Flink keeps answering 503 → ${ATTEMPTS} tries, then RUNNING saying so; tracked again once Flink is back`, async () => {
    const { job, execution } = await running();
    const cancels: number[] = [];
    h.flink.setRequestHook((method, urlPath) => {
      if (method === 'PATCH' && urlPath === `/jobs/${execution.flinkJobId}`) cancels.push(Date.now());
    });
    h.flink.setOutage('unavailable');
    try {
      await h.http.post(`/api/v1/jobs/${job.id}/stop`);
      const back = await waitFor('the stop to fail for good', async () => {
        const e = await h.execution(execution.id);
        return e.status === 'RUNNING' && e.errorMessage ? e : undefined;
      });
      expect(back.errorMessage).to.match(
        /^Stop failed: Flink could not cancel the job \(HTTP 503\): Service temporarily unavailable/,
      );
      expect(cancels).to.have.length(ATTEMPTS);
      // Followed again: Flink being unreachable is recorded as such.
      await waitFor(
        'the observer to see Flink unreachable again',
        async () => (await h.execution(execution.id)).flinkState === 'UNREACHABLE',
      );
    } finally {
      h.flink.setOutage('none');
      h.flink.setRequestHook(null);
    }
    await waitFor(
      'the observer to see Flink again',
      async () => (await h.execution(execution.id)).flinkState === 'RUNNING',
    );
    expect(h.flink.job(execution.flinkJobId)?.state).to.equal('RUNNING');
    h.flink.finishJob(execution.flinkJobId);
    await h.waitForStatus(execution.id, 'FINISHED');
  });
});

/** StopOnFlink itself (real PostgreSQL, the double), with a short savepoint timeout. */
describe('a savepoint that never completes: StopOnFlink gives up at its timeout', function () {
  this.timeout(60_000);
  const flink = new FlinkTestDouble({ savepointDir: 'file:///tmp/fo-test-savepoints' });
  let db: Knex;
  let executions: KnexExecutionRepository;
  let jobs: KnexJobRepository;
  const log = createLogger({ level: 'silent', name: 'test' });
  before(async () => {
    await flink.start();
    db = connect(databaseUrl());
    executions = new KnexExecutionRepository(db);
    jobs = new KnexJobRepository(db);
  });
  after(async () => {
    flink.setSavepointHook(null);
    await flink.stop();
    await db.destroy();
  });

  /** A STOPPING execution (stop with savepoint requested) whose job runs on the double. */
  async function stoppingExecution(): Promise<string> {
    const job = await jobs.create({
      name: `stop-timeout-${randomUUID().slice(0, 8)}`,
      jarUrl: 'a.jar',
      entryClass: STREAMING,
      config: {},
      parallelism: null,
      enabled: true,
      cluster: 'default',
      admission: 'slots',
    });
    const inserted = await executions.insert(
      {
        jobId: job.id,
        trigger: 'manual',
        status: 'QUEUED',
        parallelism: null,
        savepointPath: null,
        allowNonRestoredState: false,
        scheduledFor: null,
      },
      { exclusive: true },
    );
    if (inserted.kind !== 'created') throw new Error(`no execution: ${inserted.kind}`);
    const id = inserted.execution.id;
    const flinkJobId = flinkJobIdFor(id);
    const gateway = new FlinkRestClient({ baseUrl: flink.url });
    const dir = mkdtempSync(path.join(tmpdir(), 'fo-stop-timeout-'));
    writeFileSync(path.join(dir, 'job.jar'), buildTestJar(STREAMING));
    const jarId = await gateway.uploadJar(localJar(path.join(dir, 'job.jar'), 'job.jar'));
    const now = new Date();
    await executions.transition(id, 'SUBMITTING', { flinkJobId, submittingAt: now, runRequestedAt: now });
    expect(
      await gateway.runJar({
        jarId,
        jobId: flinkJobId,
        entryClass: null,
        programArgs: [],
        parallelism: null,
        savepointPath: null,
        allowNonRestoredState: false,
      }),
    ).to.equal('submitted');
    await executions.transition(id, 'RUNNING', { submittedAt: now, startedAt: now, flinkState: 'RUNNING' });
    await executions.transition(id, 'STOPPING', {
      stopRequest: { savepoint: true, drain: false, requestedAt: new Date() },
    });
    return id;
  }

  it('each try waits up to the timeout and is retried; the last one records RUNNING (the observer follows it again)', async () => {
    const id = await stoppingExecution();
    const gate = new Gate();
    flink.setSavepointHook(gate.pass);
    const stop = new StopOnFlink({
      executions,
      savepoints: new KnexSavepointRepository(db),
      clusters: {
        gatewayFor: (cluster) =>
          Promise.resolve({ cluster, flink: new FlinkRestClient({ baseUrl: flink.url }), savepointDir: null }),
      },
      clock: systemClock,
      log,
      settings: { pollIntervalMs: 50, timeoutMs: 400 },
    });
    try {
      const started = Date.now();
      const first = await stop.run(id, { number: 1, final: false }).then(
        () => null,
        (error: unknown) => error,
      );
      expect(first).to.be.instanceOf(TransientFailure);
      expect((first as Error).message).to.equal('Savepoint did not complete in time.');
      expect(Date.now() - started).to.be.at.least(400);
      expect((await executions.get(id))?.status).to.equal('STOPPING');

      await stop.run(id, { number: 2, final: true });
      const back = await executions.get(id);
      expect(back).to.include({ status: 'RUNNING', errorMessage: 'Stop failed: Savepoint did not complete in time.' });
      expect(back?.stopRequest).to.equal(null);
      // Both tries asked for the same savepoint operation, which is still pending on Flink.
      const triggers = flink.savepointTriggers.filter((t) => t.jobId === flinkJobIdFor(id));
      expect(triggers.map((t) => t.created)).to.deep.equal([true, false]);
      expect(new Set(triggers.map((t) => t.triggerId)).size).to.equal(1);
      expect(gate.held).to.deep.equal([flinkJobIdFor(id)]);
      expect(flink.job(flinkJobIdFor(id))?.state).to.equal('RUNNING');
    } finally {
      gate.open();
      flink.setSavepointHook(null);
    }
  });
});
