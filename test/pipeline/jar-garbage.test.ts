import { randomUUID } from 'node:crypto';
import { CollectUnusedJars } from '@flink-orchestrator/domain';
import { FlinkRestClient } from '@flink-orchestrator/flink-rest';
import { buildTestJar } from '@flink-orchestrator/flink-test-double';
import { connect, KnexJarRegistry, type Knex } from '@flink-orchestrator/postgres';
import { systemClock } from '@flink-orchestrator/observability';
import { expect } from 'chai';
import { Gate } from '../support/gate';
import { assertHarnessIntegrity } from '../support/integrity';
import { PipelineHarness } from '../support/pipeline-harness';
import { seededChoices } from '../support/seeded';
import { waitFor } from '../support/wait';

const FINISHING = 'org.apache.flink.streaming.examples.wordcount.WordCount';

/** A FlinkRestClient whose DELETE /jars/:id of one jar waits at a gate. */
class GatedDeletes extends FlinkRestClient {
  constructor(
    baseUrl: string,
    private readonly gated: { jarId: string; gate: Gate } | null,
  ) {
    super({ baseUrl });
  }

  override async deleteJar(jarId: string): Promise<void> {
    if (this.gated?.jarId === jarId) await this.gated.gate.pass(jarId);
    return super.deleteJar(jarId);
  }
}

/**
 * Removing unused JARs from Flink (CollectUnusedJars, a worker chore run here in
 * this process so the test decides when), and its race with a submission that reuses one.
 */
describe('unused JARs removed from Flink, and the race with a submission', function () {
  this.timeout(120_000);
  // The workers' own chores run at their start, then not again during the test.
  const h = new PipelineHarness({ workers: 1, workerEnv: { RECONCILE_INTERVAL_MS: '3600000' } });
  // JAR sizes, each a content of its own; TEST_SEED replays them.
  const random = seededChoices('jar-garbage');
  let db: Knex;
  before(async () => {
    await h.start();
    db = connect(h.databaseUrl);
  });
  after(async () => {
    h.flink.setRequestHook(null);
    await db?.destroy();
    await h.stop();
  });
  afterEach(() => assertHarnessIntegrity(h));

  const collector = (gated: { jarId: string; gate: Gate } | null = null, keepRecentMs: number | null = null) =>
    new CollectUnusedJars(
      {
        gatewayFor: (cluster) =>
          Promise.resolve({ cluster, flink: new GatedDeletes(h.flink.url, gated), savepointDir: null }),
      },
      new KnexJarRegistry(db),
      keepRecentMs === null ? null : { recentMs: keepRecentMs, clock: systemClock },
    );
  const registered = async (jarId: string) => (await db('flink_jars').where({ jar_id: jarId })).length > 0;
  /** A JAR no other test uploads, served under a path of its own. */
  const freshJar = () => {
    const bytes = buildTestJar(FINISHING, random.distinctSize(10_000, 100_000));
    return { bytes, url: (name: string) => h.data.serveJar(`/jars/gc-${name}-${randomUUID().slice(0, 6)}.jar`, bytes) };
  };
  const finished = async (jobId: string) => h.waitForStatus((await h.start202(jobId)).id, 'FINISHED');

  /** A job that ran JAR x, then JAR y: x is now unused (no job's latest execution ran it). */
  async function jobThatMovedOn() {
    const x = freshJar();
    const y = freshJar();
    const job = await h.createJob(FINISHING, { jarURL: x.url('x') });
    const onX = await finished(job.id);
    expect((await h.http.put(`/api/v1/jobs/${job.id}`, { jarURL: y.url('y') })).status).to.equal(200);
    const onY = await finished(job.id);
    expect(onY.flinkJarId).not.to.equal(onX.flinkJarId);
    return { job, x, xJarId: onX.flinkJarId as string, yJarId: onY.flinkJarId as string };
  }

  it('a JAR no latest execution uses is deleted from Flink and forgotten; one in use stays; a later start uploads it again', async () => {
    const { job, x, xJarId, yJarId } = await jobThatMovedOn();
    // Uploaded moments ago: a worker's collector (which keeps recent uploads) leaves it alone.
    await collector(null, 10 * 60_000).run();
    expect(h.flink.jarIds()).to.include(xJarId);
    expect(await registered(xJarId)).to.equal(true);
    expect(await collector().run()).to.be.at.least(1);
    expect(h.flink.jarIds()).not.to.include(xJarId);
    expect(await registered(xJarId)).to.equal(false);
    expect(h.flink.jarIds()).to.include(yJarId);
    expect(await registered(yJarId)).to.equal(true);

    const uploads = h.flink.uploads;
    expect((await h.http.put(`/api/v1/jobs/${job.id}`, { jarURL: x.url('x-again') })).status).to.equal(200);
    const again = await finished(job.id);
    expect(h.flink.uploads).to.equal(uploads + 1);
    expect(again.flinkJarId).not.to.equal(xJarId);
    expect(h.flink.jarIds()).to.include(again.flinkJarId);
  });

  it('a submission that reused a JAR the collector then deletes: its run is refused, retried with a new upload, and runs once', async () => {
    const { x, xJarId } = await jobThatMovedOn();
    // The collector has decided that x is unused and is about to delete it.
    const deleting = new Gate();
    const collecting = collector({ jarId: xJarId, gate: deleting }).run();
    await waitFor('the collector to reach x', () => deleting.held.length === 1);

    // Meanwhile another job with the same content reuses x (still listed) and sends its run.
    const running = new Gate();
    h.flink.setRequestHook(async (method, path) => {
      if (method === 'POST' && path.endsWith('/run')) await running.pass(path);
    });
    try {
      const uploads = h.flink.uploads;
      const other = await h.createJob(FINISHING, { jarURL: x.url('x-other') });
      const execution = await h.start202(other.id);
      await waitFor('its run request to reach Flink', () => running.held.length === 1);
      expect(running.held).to.deep.equal([`/jars/${xJarId}/run`]);
      expect((await h.execution(execution.id)).flinkJarId).to.equal(xJarId);

      deleting.open();
      await collecting;
      expect(h.flink.jarIds()).not.to.include(xJarId);
      running.open();

      const done = await h.waitForStatus(execution.id, 'FINISHED');
      expect(done.attempt, 'one retry').to.equal(2);
      expect(done.flinkJarId).not.to.equal(xJarId);
      expect(h.flink.uploads).to.equal(uploads + 1);
      const sent = h.flink.runRequestsFor(done.flinkJobId).map((r) => [r.status, r.outcome]);
      expect(sent).to.deep.equal([
        [500, 'refused'],
        [200, 'accepted'],
      ]);
    } finally {
      h.flink.setRequestHook(null);
      deleting.open();
    }
  });
});
