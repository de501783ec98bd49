import { expect } from 'chai';
import { choreRuns } from '../support/chore-runs';
import { assertHarnessIntegrity } from '../support/integrity';
import { PipelineHarness } from '../support/pipeline-harness';
import { waitFor } from '../support/wait';

const STREAMING = 'org.apache.flink.streaming.examples.windowing.TopSpeedWindowing';
const CHECKPOINTS = 'file:///tmp/fo-test-checkpoints';

describe('restart on failure: a failed execution replaced from its checkpoint, through the API, workers and the double', function () {
  this.timeout(120_000);
  // Chores every second: the sweep that decides failures left undecided runs within a test.
  const h = new PipelineHarness({ workers: 2, workerEnv: { RECONCILE_INTERVAL_MS: '1000' } });
  before(() => h.start());
  after(() => h.stop());
  afterEach(() => assertHarnessIntegrity(h));

  const executionsOf = async (jobId: string): Promise<any[]> =>
    (await h.http.get(`/api/v1/jobs/${jobId}/executions`)).body;

  /** The execution that replaced `failedId`, once it has the status wanted. */
  const restartOf = (jobId: string, failedId: string, status: string) =>
    waitFor(`the restart of ${failedId} to be ${status}`, async () =>
      (await executionsOf(jobId)).find((e) => e.restartOf === failedId && e.status === status),
    );

  it('resumes from the latest retained checkpoint, on Flink too, and records the decision on the failure', async () => {
    const job = await h.createJob(STREAMING, {
      restartPolicy: { onFailure: 'restart', maxRestarts: 2, backoffSeconds: 1 },
    });
    expect(job.restartPolicy).to.deep.equal({
      onFailure: 'restart',
      onLost: 'never',
      maxRestarts: 2,
      withinMinutes: 60,
      backoffSeconds: 1,
      restoreFrom: 'latest-checkpoint',
    });
    const first = await h.waitForStatus((await h.start202(job.id)).id, 'RUNNING');
    const checkpoint = h.flink.completeCheckpoint(first.flinkJobId, CHECKPOINTS);
    h.flink.failJob(first.flinkJobId, 'java.lang.IllegalStateException: the source went away');

    const second = await restartOf(job.id, first.id, 'RUNNING');
    expect(second).to.include({ trigger: 'restart', savepointPath: checkpoint });
    // Submitted no sooner than the backoff after the failure.
    const failed = await h.execution(first.id);
    expect(Date.parse(second.submittedAt) - Date.parse(failed.finishedAt)).to.be.at.least(1000);
    expect(failed).to.include({ status: 'FAILED' });
    expect(failed.errorMessage).to.contain('the source went away');
    expect(failed.restart).to.deep.include({ decision: 'restarted', executionId: second.id });
    expect(failed.restart.restoreFrom).to.include({ kind: 'checkpoint', path: checkpoint });
    expect(failed.restart.restoreFrom.reason).to.contain('latest completed checkpoint');
    // Flink was asked to restore from it.
    expect(h.flink.job(second.flinkJobId)?.savepointPath).to.equal(checkpoint);

    // The second failure restarts too; the third is past maxRestarts (2 within the hour).
    h.flink.failJob(second.flinkJobId);
    const third = await restartOf(job.id, second.id, 'RUNNING');
    h.flink.failJob(third.flinkJobId);
    const exhausted = await waitFor('the third failure to be decided', async () => {
      const e = await h.execution(third.id);
      return e.restart ? e : undefined;
    });
    expect(exhausted.status).to.equal('FAILED');
    expect(exhausted.restart).to.deep.include({
      decision: 'exhausted',
      reason: 'Not restarted: 2 restarts in the last 60 minutes already (maxRestarts 2).',
    });
    expect((await executionsOf(job.id)).filter((e) => e.trigger === 'restart')).to.have.length(2);
  });

  it('a job without a policy, or stopped by the user, is not restarted', async () => {
    const plain = await h.createJob(STREAMING);
    expect(plain.restartPolicy.onFailure).to.equal('never');
    const run = await h.waitForStatus((await h.start202(plain.id)).id, 'RUNNING');
    h.flink.failJob(run.flinkJobId);
    const failed = await h.waitForStatus(run.id, 'FAILED');
    expect(failed.restart).to.equal(null);

    const policed = await h.createJob(STREAMING, { restartPolicy: { onFailure: 'restart', backoffSeconds: 0 } });
    const stopped = await h.waitForStatus((await h.start202(policed.id)).id, 'RUNNING');
    await h.http.post(`/api/v1/jobs/${policed.id}/stop`);
    await h.waitForStatus(stopped.id, 'CANCELLED');
    // Both ended. Not restarted means: not by the observer as it recorded the end, nor by the
    // restart sweep that runs with the chores; so only once a run of them begun since has ended.
    const ended = Date.now();
    await waitFor('a run of the chores (the restart sweep) begun after both ended', () =>
      choreRuns(h.workers).some((startedAt) => startedAt > ended),
    );
    expect((await h.execution(run.id)).restart).to.equal(null);
    expect((await h.execution(stopped.id)).restart).to.equal(null);
    expect((await executionsOf(plain.id)).map((e) => e.trigger)).to.deep.equal(['manual']);
    expect((await executionsOf(policed.id)).map((e) => e.trigger)).to.deep.equal(['manual']);
  });

  it('refuses a bad policy with a clear error and changes nothing; PUT replaces it, null resets it', async () => {
    const job = await h.createJob(STREAMING);
    for (const restartPolicy of [
      { onFailure: 'sometimes' },
      { maxRestarts: -1 },
      { withinMinutes: 0 },
      { restoreFrom: 'yesterday' },
      { onFailure: 'restart', extra: true },
    ]) {
      const res = await h.http.put(`/api/v1/jobs/${job.id}`, { restartPolicy });
      expect(res.status, JSON.stringify(restartPolicy)).to.equal(400);
      expect(res.body.error.code).to.equal('validation_failed');
      expect(res.body.error.details[0].field).to.match(/^restartPolicy\./);
    }
    expect((await h.http.get(`/api/v1/jobs/${job.id}`)).body.version).to.equal(job.version);

    const set = await h.http.put(`/api/v1/jobs/${job.id}`, {
      restartPolicy: { onFailure: 'restart', onLost: 'restart' },
    });
    expect(set.body.restartPolicy).to.include({ onFailure: 'restart', onLost: 'restart', maxRestarts: 3 });
    const reset = await h.http.put(`/api/v1/jobs/${job.id}`, { restartPolicy: null });
    expect(reset.body.restartPolicy).to.include({ onFailure: 'never', onLost: 'never' });
  });
});
