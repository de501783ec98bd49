import {
  DependencyUnavailable,
  PermanentFailure,
  TransientFailure,
  type Cluster,
  type ClusterRepository,
} from '@flink-orchestrator/domain';
import { FlinkTestDouble } from '@flink-orchestrator/flink-test-double';
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
    expect(authorizationFor({ type: 'basic', username: 'u', password: 'p:w' })).to.deep.equal({
      Authorization: `Basic ${Buffer.from('u:p:w').toString('base64')}`,
    });
    const flink = new FlinkTestDouble();
    await flink.start();
    try {
      const seen: string[] = [];
      flink.setRequestHook((method, path) => void seen.push(`${method} ${path}`));
      const { repository } = registry(cluster({ url: flink.url, auth: { type: 'bearer', token: 't0k' } }));
      const gateways = new ClusterGateways(repository, { client: () => ({}), savepointDir: null });
      expect((await (await gateways.gatewayFor('a')).flink.listJarIds()).size).to.equal(0);
      expect(seen).to.have.length(1);
    } finally {
      await flink.stop();
    }
  });
});
