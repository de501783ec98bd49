import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildTestJar, FlinkTestDouble } from '@flink-orchestrator/flink-test-double';
import { expect } from 'chai';
import { assertHarnessIntegrity } from '../support/integrity';
import { PipelineHarness } from '../support/pipeline-harness';
import { waitFor } from '../support/wait';

const STREAMING = 'org.apache.flink.streaming.examples.windowing.TopSpeedWindowing';
const TOKEN = 'flink-proxy-token-0123456789';

/** A JobManager behind an authenticating proxy: 401 without the bearer token, else passed through. */
async function authenticatingProxy(
  target: string,
): Promise<{ url: string; refused: number; passed: number; close(): Promise<void> }> {
  const state = { refused: 0, passed: 0 };
  const server: Server = http.createServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      state.refused += 1;
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"errors":["unauthorized"]}');
      return;
    }
    state.passed += 1;
    const upstream = http.request(
      new URL(req.url ?? '/', target),
      { method: req.method, headers: { ...req.headers, host: new URL(target).host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get refused() {
      return state.refused;
    },
    get passed() {
      return state.passed;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * Two Flink test doubles as two clusters of one service: `default` (FLINK_JOBMANAGER_URL) and
 * `second`, registered over the API behind a proxy that wants a bearer token. A job on each
 * runs, uploads its JAR and is stopped only on its own double.
 */
describe('two Flink clusters: each job runs on its own', function () {
  this.timeout(120_000);
  const h = new PipelineHarness({ workers: 2, flink: { savepointDir: 'file:///tmp/fo-test-savepoints' } });
  const second = new FlinkTestDouble({ savepointDir: 'file:///tmp/fo-test-savepoints-second' });
  let proxy: Awaited<ReturnType<typeof authenticatingProxy>>;

  // Both clusters, every run request each double received.
  afterEach(() => assertHarnessIntegrity(h, { clusters: [{ name: 'second', flink: second }] }));
  before(async () => {
    await h.start();
    await second.start();
    proxy = await authenticatingProxy(second.url);
    const created = await h.http.post('/api/v1/clusters', {
      name: 'second',
      url: proxy.url,
      auth: { type: 'bearer', token: TOKEN },
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
  });
  after(async () => {
    // Leave nothing that names `second` behind for the suites that share the database.
    const jobs = await h.http.get('/api/v1/jobs?limit=500');
    for (const job of jobs.body.filter((j: { cluster: string }) => j.cluster === 'second'))
      await h.http.delete(`/api/v1/jobs/${job.id}`);
    await h.http.delete('/api/v1/clusters/second');
    await h.stop();
    await proxy?.close();
    await second.stop();
  });

  it('a job on each cluster runs, uploads its JAR and stops only on its own double', async () => {
    // One JAR content for both jobs: the registry is per cluster, so each double gets an upload.
    const bytes = buildTestJar(STREAMING);
    const jar = { path: '/jars/two-clusters.jar', bytes };
    const onDefault = await h.createJob(STREAMING, {}, jar);
    const onSecond = await h.createJob(STREAMING, { cluster: 'second' }, jar);
    expect(onDefault.cluster).to.equal('default');
    expect(onSecond.cluster).to.equal('second');

    const [a, b] = [await h.start202(onDefault.id), await h.start202(onSecond.id)];
    expect(a.cluster).to.equal('default');
    expect(b.cluster).to.equal('second');
    const runningA = await h.waitForStatus(a.id, 'RUNNING');
    const runningB = await h.waitForStatus(b.id, 'RUNNING');

    expect(h.flink.job(runningA.flinkJobId)?.state).to.equal('RUNNING');
    expect(second.job(runningA.flinkJobId)).to.equal(undefined);
    expect(second.job(runningB.flinkJobId)?.state).to.equal('RUNNING');
    expect(h.flink.job(runningB.flinkJobId)).to.equal(undefined);
    expect(second.submittedJobIds()).to.deep.equal([runningB.flinkJobId]);
    expect(h.flink.submittedJobIds()).to.include(runningA.flinkJobId);
    expect(h.flink.submittedJobIds()).not.to.include(runningB.flinkJobId);
    expect(second.jarIds()).to.include(runningB.flinkJarId);
    expect(h.flink.jarIds()).to.include(runningA.flinkJarId);
    expect(second.uploads).to.equal(1);
    // Every call to the second cluster carried its credentials.
    expect(proxy.refused).to.equal(0);

    for (const job of [onDefault, onSecond])
      expect((await h.http.post(`/api/v1/jobs/${job.id}/stop`)).status).to.equal(202);
    await h.waitForStatus(a.id, 'CANCELLED');
    await h.waitForStatus(b.id, 'CANCELLED');
    expect(h.flink.job(runningA.flinkJobId)?.state).to.equal('CANCELED');
    expect(second.job(runningB.flinkJobId)?.state).to.equal('CANCELED');
  });

  it('the cluster of a job cannot change while it runs, its credentials are never answered, and a new URL is followed', async () => {
    const job = await h.createJob(STREAMING, { cluster: 'second' });
    const started = await h.start202(job.id);
    await h.waitForStatus(started.id, 'RUNNING');
    const moved = await h.http.put(`/api/v1/jobs/${job.id}`, { cluster: 'default' });
    expect(moved.status).to.equal(409);
    expect(moved.body.error.code).to.equal('execution_active');
    const inUse = await h.http.delete('/api/v1/clusters/second');
    expect(inUse.status).to.equal(409);
    expect(inUse.body.error.code).to.equal('cluster_in_use');
    const read = await h.http.get('/api/v1/clusters/second');
    expect(read.body.auth).to.deep.equal({ type: 'bearer' });
    expect(JSON.stringify(read.body)).not.to.contain(TOKEN);
    for (const worker of h.workers) expect(worker.output).not.to.contain(TOKEN);

    // The cluster moves (another proxy in front of the same JobManager): the workers follow,
    // tracking the running execution through the new URL.
    const moved2 = await authenticatingProxy(second.url);
    try {
      const put = await h.http.put('/api/v1/clusters/second', { url: moved2.url });
      expect(put.status).to.equal(200);
      await waitFor('the workers to call the new URL', () => moved2.passed > 0);
      expect(moved2.refused).to.equal(0);
      await h.http.post(`/api/v1/jobs/${job.id}/stop`);
      await h.waitForStatus(started.id, 'CANCELLED');
    } finally {
      await h.http.put('/api/v1/clusters/second', { url: proxy.url });
      await moved2.close();
    }
    expect(second.job(started.flinkJobId ?? started.id.replace(/-/g, ''))?.state).to.equal('CANCELED');
  });
});
