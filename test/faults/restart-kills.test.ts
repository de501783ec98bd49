import { randomUUID } from 'node:crypto';
import { FlinkTestDouble } from '@flink-orchestrator/flink-test-double';
import { expect } from 'chai';
import { assertHarnessIntegrity } from '../support/integrity';
import { PipelineHarness } from '../support/pipeline-harness';
import { waitFor } from '../support/wait';
import {
  eachTrial,
  HeldFlinkRequests,
  KILL_WORKER_ENV,
  killWorkersAndReplace,
  liveFlinkJobs,
  query,
  STREAMING,
  stopJobs,
  StageTimes,
  TRIALS,
} from './support/kill-trials';
import { RowLock } from './support/row-locks';

const CHECKPOINTS = 'file:///tmp/fo-test-checkpoints';
const RESTART = {
  restartPolicy: { onFailure: 'restart', maxRestarts: 3, withinMinutes: 60, backoffSeconds: 0 },
};

/**
 * A restart decision crashed with real processes: every trial's job fails on Flink, the
 * worker deciding its restart is held (reading the checkpoints, or about to record the
 * decision after creating the restart), checked in PostgreSQL, and SIGKILLed; a new worker's
 * sweep decides. The promise: exactly one restart per failure, from the checkpoint, and one
 * Flink job per job.
 *
 * Each trial has a cluster (a double) of its own: a cluster's observer records its failures
 * and decides their restarts one after the other, so a held checkpoints read holds every
 * other failure of the cluster behind it (until the read times out).
 */
describe(`fault: SIGKILL the worker deciding a restart, ${TRIALS} failures each`, function () {
  this.timeout(300_000);
  const h = new PipelineHarness({ workers: 1, workerEnv: KILL_WORKER_ENV });
  const clusters = Array.from({ length: TRIALS }, (_, i) => ({
    name: `restart-kills-${i + 1}-${randomUUID().slice(0, 4)}`,
    flink: new FlinkTestDouble(),
  }));
  before(async () => {
    await h.start();
    for (const c of clusters) {
      await c.flink.start();
      const created = await h.http.post('/api/v1/clusters', { name: c.name, url: c.flink.url });
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
    }
  });
  after(async () => {
    // Nothing naming these clusters is left for the files that share the database.
    const jobs = (await h.http.get('/api/v1/jobs?limit=500')).body as { id: string; cluster: string }[];
    for (const job of jobs.filter((j) => clusters.some((c) => c.name === j.cluster)))
      await h.http.delete(`/api/v1/jobs/${job.id}`);
    for (const c of clusters) await h.http.delete(`/api/v1/clusters/${c.name}`);
    await h.stop();
    for (const c of clusters) {
      c.flink.setRequestHook(null);
      await c.flink.stop();
    }
  });
  afterEach(() => RowLock.releaseAll());
  afterEach(() => assertHarnessIntegrity(h, { clusters }));

  const times = new StageTimes();
  after(() => times.print('restart kills'));

  interface Failure {
    job: any;
    execution: any;
    flink: FlinkTestDouble;
    checkpoint: string;
    reads: HeldFlinkRequests;
  }

  /** A running job on each trial's cluster, with a checkpoint, failed there; its restart decision held reading the checkpoints. */
  async function failWithReadsHeld(): Promise<Failure[]> {
    return eachTrial(clusters, async ({ name, flink }, n) => {
      const job = await h.createJob(STREAMING, { ...RESTART, cluster: name });
      const execution = await h.waitForStatus((await h.start202(job.id)).id, 'RUNNING', 60_000);
      const checkpoint = flink.completeCheckpoint(execution.flinkJobId, CHECKPOINTS);
      const read = `GET /jobs/${execution.flinkJobId}/checkpoints`;
      const reads = new HeldFlinkRequests(flink, (m, p) => `${m} ${p}` === read);
      flink.failJob(execution.flinkJobId, 'java.lang.IllegalStateException: crash test');
      await waitFor(`trial ${n}: the checkpoints read to be held`, () => reads.held.includes(read), 60_000);
      return { job, execution, flink, checkpoint, reads };
    });
  }

  const failureRow = async (id: string) =>
    (
      await query<{ status: string; restart_decision: unknown; restarts: number }>(
        h.databaseUrl,
        `SELECT status, restart_decision,
                (SELECT count(*)::int FROM job_executions r WHERE r.restart_of = e.id) AS restarts
           FROM job_executions e WHERE id = $1`,
        [id],
      )
    )[0];

  /** Exactly one restart of the failure, decided, running from the checkpoint; the job's only live Flink job. */
  async function assertOneRestart(f: Failure, n: number): Promise<void> {
    const failed = await waitFor(
      `trial ${n}: the restart of ${f.execution.id} to be decided`,
      async () => {
        const e = await h.execution(f.execution.id);
        return e.restart ? e : undefined;
      },
      90_000,
    );
    expect(failed.restart, `trial ${n}: ${JSON.stringify(failed.restart)}`).to.include({ decision: 'restarted' });
    expect(failed.restart.restoreFrom, `trial ${n}`).to.include({ kind: 'checkpoint', path: f.checkpoint });
    const restart = await h.waitForStatus(failed.restart.executionId, 'RUNNING', 60_000);
    expect(restart, `trial ${n}`).to.include({ trigger: 'restart', restartOf: f.execution.id });
    expect(f.flink.job(restart.flinkJobId)?.savepointPath, `trial ${n}: restored from`).to.equal(f.checkpoint);
    const all = (await h.http.get(`/api/v1/jobs/${f.job.id}/executions`)).body as any[];
    expect(
      all.filter((e) => e.restartOf === f.execution.id).map((e) => e.id),
      `trial ${n}: restarts of the failure`,
    ).to.deep.equal([restart.id]);
    expect(all, `trial ${n}: executions of the job`).to.have.length(2);
    expect(liveFlinkJobs(f.flink, all), `trial ${n}: Flink jobs of the job still running`).to.deep.equal([
      restart.flinkJobId,
    ]);
  }

  it('killed while Flink holds every checkpoints read: the failure recorded, nothing decided', async () => {
    const mark = times.begin('readingCheckpoints');
    const failures = await failWithReadsHeld();
    await eachTrial(failures, async (f, n) => {
      expect(await failureRow(f.execution.id), `trial ${n}`).to.deep.equal({
        status: 'FAILED',
        restart_decision: null,
        restarts: 0,
      });
    });
    mark('held');
    await killWorkersAndReplace(h, { released: () => failures.forEach((f) => f.reads.release()) });
    mark('replaced');
    await eachTrial(failures, assertOneRestart);
    mark('settled');
    await stopJobs(
      h,
      failures.map((f) => f.job.id),
    );
  });

  it('killed after the restart was created, before the decision was recorded on the failure', async () => {
    const mark = times.begin('recordingDecision');
    const failures = await failWithReadsHeld();
    // The failed rows locked, then the reads let through: each worker creates the restart
    // (no lock on the failed row needed) and waits to write the decision on it.
    const locks = await Promise.all(
      failures.map((f) =>
        RowLock.take(
          h.databaseUrl,
          `failed execution ${f.execution.id}`,
          'SELECT 1 FROM job_executions WHERE id = $1 FOR NO KEY UPDATE',
          [f.execution.id],
        ),
      ),
    );
    for (const f of failures) f.reads.release();
    await eachTrial(locks, (lock, n) => lock.waitForWaiter(/restart_decision/, `trial ${n}`));
    await eachTrial(failures, async (f, n) => {
      expect(await failureRow(f.execution.id), `trial ${n}`).to.deep.equal({
        status: 'FAILED',
        restart_decision: null,
        restarts: 1,
      });
    });
    mark('held');
    await killWorkersAndReplace(h, { locks });
    mark('replaced');
    await eachTrial(failures, assertOneRestart);
    mark('settled');
    await stopJobs(
      h,
      failures.map((f) => f.job.id),
    );
  });
});
