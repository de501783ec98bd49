import { randomUUID } from 'node:crypto';
import { buildTestJar } from '@flink-orchestrator/flink-test-double';
import { expect } from 'chai';
import { ownDatabase } from '../support/own-database';
import { PipelineHarness } from '../support/pipeline-harness';
import { databaseUrl, REDIS_PREFIX, TEST_DATABASE } from '../support/test-env';

const FINISHING = 'org.apache.flink.streaming.examples.wordcount.WordCount';

describe('JAR reuse (JAR_REUSE_MS): a burst of starts asks once', function () {
  this.timeout(120_000);
  // One worker: the reuse is what one worker remembers. A database and queues of its own:
  // executions earlier tests left active would be resent to this worker by its reconciler, and
  // one failing transiently (its data-processor long gone) makes it forget the cluster's JARs.
  const own = { DATABASE_URL: databaseUrl(`${TEST_DATABASE}_jar_reuse`), QUEUE_PREFIX: `${REDIS_PREFIX}-jar-reuse` };
  const h = new PipelineHarness({ workers: 1, apiEnv: own, workerEnv: { ...own, JAR_REUSE_MS: '60000' } });
  let database: Awaited<ReturnType<typeof ownDatabase>>;
  before(async () => {
    database = await ownDatabase('jar_reuse');
    await h.start();
  });
  after(async () => {
    await h.stop();
    await database?.drop();
  });

  it('starts within the window neither ask the data-processor nor list Flink’s jars; a JAR Flink lost meanwhile is uploaded again by the retry', async () => {
    const path = `/jars/reused-${randomUUID().slice(0, 8)}.jar`;
    const job = await h.createJob(FINISHING, {}, { path, bytes: buildTestJar(FINISHING, 5000), etag: '"v1"' });
    const run = async () => h.waitForStatus((await h.start202(job.id)).id, 'FINISHED');
    const first = await run();
    let jarLists = 0;
    h.flink.setRequestHook((method, path) => void (method === 'GET' && path === '/jars' && jarLists++));
    for (let i = 0; i < 3; i++) expect((await run()).flinkJarId).to.equal(first.flinkJarId);
    h.flink.setRequestHook(null);
    expect([h.data.hits.get(path), h.data.downloads.get(path), jarLists]).to.deep.equal([1, 1, 0]);

    // Flink restarts and loses its jars: the run fails (transient), the worker forgets what it
    // knew of the cluster, and the retry fetches and uploads the JAR again. One Flink job ran.
    const uploads = h.flink.uploads;
    h.flink.restart();
    const after = await run();
    expect(after.flinkJarId).to.not.equal(first.flinkJarId);
    expect(after.attempt).to.equal(2);
    expect(h.flink.uploads).to.equal(uploads + 1);
    expect(h.data.downloads.get(path)).to.equal(2);
  });
});
