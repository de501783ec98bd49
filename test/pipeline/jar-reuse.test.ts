import { randomUUID } from 'node:crypto';
import { buildTestJar } from '@flink-orchestrator/flink-test-double';
import { expect } from 'chai';
import { PipelineHarness } from '../support/pipeline-harness';

const FINISHING = 'org.apache.flink.streaming.examples.wordcount.WordCount';

describe('JAR reuse (JAR_REUSE_MS): a burst of starts asks once', function () {
  this.timeout(120_000);
  // One worker: the reuse is what one worker remembers.
  const h = new PipelineHarness({ workers: 1, workerEnv: { JAR_REUSE_MS: '60000' } });
  before(() => h.start());
  after(() => h.stop());

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
