import { savepointTriggerId } from '@flink-orchestrator/domain';
import { expect } from 'chai';
import { Client } from 'pg';
import { assertHarnessIntegrity } from '../support/integrity';
import { PipelineHarness } from '../support/pipeline-harness';
import { databaseUrl } from '../support/test-env';
import { waitFor } from '../support/wait';

const STREAMING = 'org.apache.flink.streaming.examples.windowing.TopSpeedWindowing';

describe('a hung stop-with-savepoint can be escalated to a cancel', function () {
  this.timeout(60_000);
  // Savepoints that take ten minutes: a stop-with-savepoint hangs as far as the test can tell.
  const h = new PipelineHarness({
    workers: 2,
    flink: { savepointDir: 'file:///tmp/fo-test-savepoints', timing: { savepointMs: 600_000 } },
  });
  const db = new Client({ connectionString: databaseUrl() });
  afterEach(() => assertHarnessIntegrity(h));
  before(async () => {
    await h.start();
    await db.connect();
  });
  after(async () => {
    await db.end();
    await h.stop();
  });

  it('STOPPING with a savepoint in flight + POST /stop {"savepoint": false} → CANCELLED on Flink', async () => {
    const job = await h.createJob(STREAMING);
    const started = await h.start202(job.id);
    const running = await h.waitForStatus(started.id, 'RUNNING');

    const first = await h.http.post(`/api/v1/jobs/${job.id}/stop`, { savepoint: true });
    expect(first.status).to.equal(202);
    expect(first.body.status).to.equal('STOPPING');
    const { rows } = await db.query('SELECT stop_requested_at FROM job_executions WHERE id = $1', [started.id]);
    const triggerId = savepointTriggerId(running.flinkJobId, rows[0].stop_requested_at as Date);
    // The worker has asked Flink for the savepoint, and Flink is still taking it.
    await waitFor('the savepoint to be in progress on Flink', async () => {
      const res = await fetch(`${h.flink.url}/jobs/${running.flinkJobId}/savepoints/${triggerId}`);
      return res.status === 200 && ((await res.json()) as { status: { id: string } }).status.id === 'IN_PROGRESS';
    });

    // Asking for a savepoint again changes nothing: the same stop is pending.
    const repeated = await h.http.post(`/api/v1/jobs/${job.id}/stop`, { savepoint: true });
    expect(repeated.status).to.equal(202);
    expect(repeated.body.status).to.equal('STOPPING');
    expect(h.flink.job(running.flinkJobId)?.state).to.equal('RUNNING');

    const escalated = await h.http.post(`/api/v1/jobs/${job.id}/stop`, { savepoint: false });
    expect(escalated.status).to.equal(202);
    expect(escalated.body).to.include({ id: started.id, status: 'STOPPING' });
    const cancelled = await h.waitForStatus(started.id, 'CANCELLED', 20_000);
    expect(cancelled.savepointLocation).to.equal(null);
    expect(h.flink.job(running.flinkJobId)?.state).to.equal('CANCELED');
  });
});
