import { randomUUID } from 'node:crypto';
import { buildTestJar } from '@flink-orchestrator/flink-test-double';
import { connect, type Knex } from '@flink-orchestrator/postgres';
import { expect } from 'chai';
import { PipelineHarness } from '../support/pipeline-harness';
import { databaseUrl } from '../support/test-env';
import { stopAll } from '../support/worker-processes';

const STREAMING = 'org.apache.flink.streaming.examples.windowing.TopSpeedWindowing';
const FINISHING = 'org.apache.flink.streaming.examples.wordcount.WordCount';

/**
 * An execution runs the definition the job had when it was started. No worker runs
 * until the test has edited the job, so the submission happens after the edit.
 */
describe('an execution runs the job definition it was started with', function () {
  this.timeout(120_000);
  const h = new PipelineHarness({ workers: 0 });
  let db: Knex;
  before(async () => {
    await h.start();
    db = connect(databaseUrl());
  });
  after(async () => {
    await db.destroy();
    await h.stop();
  });

  async function runWorker(): Promise<void> {
    h.workers.push(...(await h.addWorkers(1)));
  }

  async function stopWorkers(): Promise<void> {
    await stopAll(h.workers);
    h.workers = [];
  }

  /** Another JAR, entry class, config and parallelism: nothing of the start's definition left. */
  async function editEverything(jobId: string, version: number): Promise<any> {
    const jarURL = h.data.serveJar(`/jars/edited-${randomUUID().slice(0, 8)}.jar`, buildTestJar(FINISHING));
    const res = await h.http.put(
      `/api/v1/jobs/${jobId}`,
      { jarURL, entryClass: FINISHING, config: { speed: 99, extra: 'x' }, parallelism: 4 },
      { 'if-match': `"${version}"` },
    );
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.version).to.equal(version + 1);
    return res.body;
  }

  it('an edit between start and submission changes nothing: Flink runs the snapshot, the view shows it', async () => {
    const job = await h.createJob(STREAMING, { config: { speed: 5, mode: 'fast' }, parallelism: 2 });
    const started = await h.start202(job.id);
    const snapshot = {
      jarURL: job.jarURL,
      entryClass: STREAMING,
      config: { speed: 5, mode: 'fast' },
      programArgs: ['--mode', 'fast', '--speed', '5'],
      parallelism: 2,
      savepointPath: null,
      allowNonRestoredState: false,
      jobVersion: job.version,
    };
    expect(started.definition).to.deep.equal(snapshot);

    const edited = await editEverything(job.id, job.version);
    await runWorker();
    const running = await h.waitForStatus(started.id, 'RUNNING');

    const run = h.flink.runRequests.filter((r) => r.body.jobId === running.flinkJobId);
    expect(run).to.have.length(1);
    expect(run[0]?.body).to.include({ entryClass: STREAMING, parallelism: 2 });
    expect(run[0]?.body.programArgsList).to.deep.equal(snapshot.programArgs);
    expect(h.flink.job(running.flinkJobId)).to.include({ entryClass: STREAMING, parallelism: 2, state: 'RUNNING' });
    expect(h.data.hits.get(new URL(edited.jarURL).pathname) ?? 0).to.equal(0);
    expect(running.definition).to.deep.equal(snapshot);

    // The next start takes the job as it is now.
    await h.http.post(`/api/v1/jobs/${job.id}/stop`);
    await h.waitForStatus(started.id, 'CANCELLED');
    const next = await h.start202(job.id);
    expect(next.definition).to.deep.include({
      jarURL: edited.jarURL,
      entryClass: FINISHING,
      programArgs: ['--extra', 'x', '--speed', '99'],
      parallelism: 4,
      jobVersion: edited.version,
    });
    const finished = await h.waitForStatus(next.id, 'FINISHED');
    expect(h.flink.job(finished.flinkJobId)).to.include({ entryClass: FINISHING, parallelism: 4 });
    await stopWorkers();
  });

  it('an execution recorded without a definition (before the migration) runs the job as it is, and records that', async () => {
    const job = await h.createJob(STREAMING, { config: { speed: 5 } });
    const started = await h.start202(job.id);
    // As a row written before the definition columns existed.
    await db('job_executions')
      .where({ id: started.id })
      .update({ jar_url: null, entry_class: null, config: null, job_version: null });
    expect((await h.execution(started.id)).definition).to.equal(null);

    const edited = await editEverything(job.id, job.version);
    await runWorker();
    const finished = await h.waitForStatus(started.id, 'FINISHED');
    expect(h.flink.job(finished.flinkJobId)).to.include({ entryClass: FINISHING });
    expect(h.flink.job(finished.flinkJobId)?.programArgs).to.deep.equal(['--extra', 'x', '--speed', '99']);
    expect(finished.definition).to.deep.include({
      jarURL: edited.jarURL,
      entryClass: FINISHING,
      programArgs: ['--extra', 'x', '--speed', '99'],
      jobVersion: edited.version,
    });
    await stopWorkers();
  });
});
