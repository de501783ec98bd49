import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  DependencyUnavailable,
  PermanentFailure,
  TransientFailure,
  type Cluster,
  type ClusterRepository,
} from '@flink-orchestrator/domain';
import { expect } from 'chai';
import { authorizationFor, ClusterGateways } from '../src';

/** A registry of one row the test edits, counting reads. */
function registry(row: Cluster | null) {
  const state = { row, reads: 0, down: false };
  const repository = {
    get: (name: string) => {
      state.reads += 1;
      if (state.down) return Promise.reject(new DependencyUnavailable('postgres'));
      return Promise.resolve(state.row?.name === name ? state.row : null);
    },
  } as unknown as ClusterRepository;
  return { state, repository };
}

const cluster = (over: Partial<Cluster> = {}): Cluster => ({
  id: 'c1',
  name: 'a',
  url: 'http://127.0.0.1:9',
  auth: null,
  savepointDir: null,
  version: 1,
  createdAt: new Date(),
  updatedAt: new Date(),
  ...over,
});

describe('ClusterGateways (per-cluster Flink clients)', () => {
  it('keeps one client per cluster version, reads the row at most every refreshMs, rebuilds when it moves', async () => {
    let now = 0;
    const { state, repository } = registry(cluster());
    const gateways = new ClusterGateways(repository, {
      client: () => ({ timeoutMs: 1000 }),
      savepointDir: 'file:///default-sp',
      refreshMs: 1000,
      now: () => now,
    });
    const first = await gateways.gatewayFor('a');
    expect(first.savepointDir).to.equal('file:///default-sp');
    expect(await gateways.gatewayFor('a')).to.equal(first);
    expect(state.reads).to.equal(1);
    now = 1500;
    expect(await gateways.gatewayFor('a')).to.equal(first); // read again, same version: same client
    expect(state.reads).to.equal(2);
    state.row = cluster({ version: 2, savepointDir: 's3://a/sp' });
    expect(await gateways.gatewayFor('a')).to.equal(first); // within refreshMs of the last read
    now = 3000;
    const moved = await gateways.gatewayFor('a');
    expect(moved).not.to.equal(first);
    expect(moved.savepointDir).to.equal('s3://a/sp');
  });

  it('a removed cluster is a PermanentFailure naming it; the registry down is a TransientFailure', async () => {
    const { state, repository } = registry(null);
    const gateways = new ClusterGateways(repository, { client: () => ({}), savepointDir: null, refreshMs: 0 });
    const removed = await gateways.gatewayFor('gone').catch((e: unknown) => e);
    expect(removed).to.be.instanceOf(PermanentFailure);
    expect((removed as Error).message).to.match(/cluster "gone" no longer exists/);
    state.down = true;
    expect(await gateways.gatewayFor('gone').catch((e: unknown) => e)).to.be.instanceOf(TransientFailure);
  });

  it("sends the cluster's credentials as its Authorization header", async () => {
    expect(authorizationFor(null)).to.deep.equal({});
    expect(authorizationFor({ type: 'bearer', token: 't0k' })).to.deep.equal({ Authorization: 'Bearer t0k' });
    const basic = `Basic ${Buffer.from('u:p:w').toString('base64')}`;
    expect(authorizationFor({ type: 'basic', username: 'u', password: 'p:w' })).to.deep.equal({ Authorization: basic });

    // A JobManager behind an authenticating proxy: what reaches it is the header as received.
    const jobManager = await recordingJobManager();
    const dir = mkdtempSync(path.join(tmpdir(), 'fo-auth-'));
    const jar = { path: path.join(dir, 'app.jar'), fileName: 'app.jar', size: 4, sha256: 'x' };
    writeFileSync(jar.path, 'PK..');
    try {
      const { state, repository } = registry(cluster({ url: jobManager.url, auth: { type: 'bearer', token: 't0k' } }));
      const gateways = new ClusterGateways(repository, { client: () => ({}), savepointDir: null, refreshMs: 0 });
      const flink = (await gateways.gatewayFor('a')).flink;
      expect((await flink.listJarIds()).size).to.equal(0);
      // The upload sets headers of its own (multipart): the credentials go with them.
      expect(await flink.uploadJar(jar)).to.equal('abc_app.jar');
      expect(jobManager.seen.splice(0)).to.deep.equal([
        ['GET /v1/jars', 'Bearer t0k'],
        ['POST /v1/jars/upload', 'Bearer t0k'],
      ]);

      // New credentials (the row's version moves): the next request carries them.
      state.row = cluster({ url: jobManager.url, auth: { type: 'basic', username: 'u', password: 'p:w' }, version: 2 });
      await (await gateways.gatewayFor('a')).flink.listJarIds();
      // None: no Authorization header at all.
      state.row = cluster({ url: jobManager.url, auth: null, version: 3 });
      await (await gateways.gatewayFor('a')).flink.listJarIds();
      expect(jobManager.seen).to.deep.equal([
        ['GET /v1/jars', basic],
        ['GET /v1/jars', null],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await jobManager.close();
    }
  });
});

/** An HTTP server answering the JAR endpoints, recording each request with the Authorization header it carried. */
async function recordingJobManager() {
  const seen: [string, string | null][] = [];
  const server = createServer((req, res) => {
    seen.push([`${req.method} ${req.url}`, req.headers.authorization ?? null]);
    req.resume();
    req.on('end', () => {
      const upload = req.method === 'POST';
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(upload ? { filename: '/tmp/flink-web/abc_app.jar', status: 'success' } : { files: [] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
