import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FlinkRestClient } from '@flink-orchestrator/flink-rest';
import { buildTestJar, FlinkTestDouble } from '@flink-orchestrator/flink-test-double';
import { expect } from 'chai';
import { localJar } from '../../packages/flink-rest/test/flink-gateway-contract';
import { FlinkProxy } from '../support/flink-proxy';
import { Gate } from '../support/gate';
import { waitFor } from '../support/wait';

const STREAMING = 'org.apache.flink.streaming.examples.windowing.TopSpeedWindowing';

/** The proxy the end-to-end suite puts between workers and a real Flink, checked against the double. */
describe('FlinkProxy (records run requests, holds answers) in front of the double', () => {
  const flink = new FlinkTestDouble();
  let proxy: FlinkProxy;
  let client: FlinkRestClient;
  let jarId: string;
  const run = (jobId: string) =>
    client.runJar({
      jarId,
      jobId,
      entryClass: null,
      programArgs: [],
      parallelism: null,
      savepointPath: null,
      allowNonRestoredState: false,
    });
  before(async () => {
    await flink.start();
    proxy = new FlinkProxy(flink.url);
    client = new FlinkRestClient({ baseUrl: `${await proxy.start()}/v1`, runTimeoutMs: 1000 });
    const dir = mkdtempSync(path.join(tmpdir(), 'fo-proxy-'));
    writeFileSync(path.join(dir, 'a.jar'), buildTestJar(STREAMING));
    jarId = await client.uploadJar(localJar(path.join(dir, 'a.jar'), 'a.jar'));
  });
  after(async () => {
    await proxy.stop();
    await flink.stop();
  });

  it('passes everything through and records each run request as the double does', async () => {
    expect(flink.jarIds()).to.include(jarId);
    const jobId = '1'.repeat(32);
    expect(await run(jobId)).to.equal('submitted');
    expect(await run(jobId)).to.equal('duplicate');
    expect((await client.getJob(jobId))?.state).to.equal('RUNNING');
    await waitFor('the answers to be flushed', () => proxy.runRequestsFor(jobId).every((r) => r.delivered !== null));
    const mine = proxy.runRequestsFor(jobId).map(({ status, outcome, delivered }) => ({ status, outcome, delivered }));
    expect(mine).to.deep.equal([
      { status: 200, outcome: 'accepted', delivered: true },
      { status: 400, outcome: 'duplicate', delivered: true },
    ]);
    expect(mine).to.deep.equal(
      flink.runRequestsFor(jobId).map(({ status, outcome, delivered }) => ({ status, outcome, delivered })),
    );
  });

  it('holds the answer of an accepted run: Flink runs the job, the client that gave up never hears', async () => {
    const gate = new Gate();
    proxy.setRunAnswerHook(gate.pass);
    const jobId = '2'.repeat(32);
    try {
      const outcome = run(jobId).then(
        () => 'answered',
        () => 'gave up',
      );
      await waitFor('the answer to be held', () => gate.held.length === 1);
      expect(flink.job(jobId)?.state).to.equal('RUNNING');
      expect(await outcome).to.equal('gave up'); // runTimeoutMs: 1 s
      gate.open();
      await waitFor('the held answer to be dropped', () => proxy.runRequestsFor(jobId)[0]?.delivered === false);
      expect(proxy.runRequestsFor(jobId)[0]).to.include({ status: 200, outcome: 'accepted' });
    } finally {
      proxy.setRunAnswerHook(null);
    }
  });
});
