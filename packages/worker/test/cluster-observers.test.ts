import { expect } from 'chai';
import type { Cluster, ClusterRepository, ObservationReport, ObserveCluster } from '@flink-orchestrator/domain';
import { createLogger, Metrics } from '@flink-orchestrator/observability';
import { RedisLease, redisConnection } from '@flink-orchestrator/queue-bullmq';
import { ClusterObservers } from '../src/cluster-observers';
import { observerMetrics } from '../src/observer-metrics';
import { deleteRedisKeys, REDIS_PREFIX, REDIS_URL } from '../../../test/support/test-env';
import { waitFor } from '../../../test/support/wait';

const POLL_MS = 100;
const log = createLogger({ level: 'silent', name: 'test' });

/** A registry that lists the given cluster names. */
function registry(names: string[]): ClusterRepository {
  const rows = names.map((name, i): Cluster => ({
    id: `00000000-0000-4000-8000-00000000000${i}`,
    name,
    url: 'http://flink',
    auth: null,
    savepointDir: null,
    version: 1,
    createdAt: new Date(0),
    updatedAt: new Date(0),
  }));
  const unused = () => Promise.reject(new Error('not used'));
  return {
    list: () => Promise.resolve(rows),
    get: unused,
    create: unused,
    update: unused,
    delete: unused,
    upsertUrl: unused,
  };
}

/** A RedisLease that counts the attempts to take each lease, so a test can wait for a few to pass. */
class CountingLease extends RedisLease {
  readonly attempts = new Map<string, number>();
  override tryAcquire(name: string, ttlMs: number): Promise<boolean> {
    this.attempts.set(name, (this.attempts.get(name) ?? 0) + 1);
    return super.tryAcquire(name, ttlMs);
  }
}

/**
 * A worker's observer loop whose observers only count their ticks, by cluster, and their
 * writes: a tick "writes" only when its observer still holds the lease, as ObserveCluster.
 * Its gauges are wired as the worker wires them, into its own registry.
 */
function worker(prefix: string, names: string[], leaseTtlMs?: number) {
  const redis = redisConnection(REDIS_URL, 'producer');
  const ticks = new Map<string, number>();
  const writes = new Map<string, number>();
  const stillHolds = new Map<string, () => boolean>();
  const report: ObservationReport = { reachable: true, flinkCalls: 1, observed: 3, stateChanges: 0, ended: 0, lost: 0 };
  const metrics = new Metrics('worker');
  const lease = new CountingLease(redis, prefix);
  const observers = new ClusterObservers({
    clusters: registry(names),
    lease,
    pollIntervalMs: POLL_MS,
    ...(leaseTtlMs ? { leaseTtlMs } : {}),
    log,
    ...observerMetrics(metrics),
    observerFor: (cluster, holds) => {
      stillHolds.set(cluster, holds);
      return {
        tick: () => {
          ticks.set(cluster, (ticks.get(cluster) ?? 0) + 1);
          if (holds()) writes.set(cluster, (writes.get(cluster) ?? 0) + 1);
          return Promise.resolve(report);
        },
      } as unknown as ObserveCluster;
    },
  });
  /** This worker's /metrics lines for one cluster's observer gauges. */
  const gauges = async (cluster: string) =>
    (await metrics.registry.metrics())
      .split('\n')
      .filter(
        (line) => /^cluster_(reachable|observed_executions)\{/.test(line) && line.includes(`cluster="${cluster}"`),
      );
  const attempts = (cluster: string) => lease.attempts.get(`observer:${cluster}`) ?? 0;
  return { observers, ticks, writes, stillHolds, gauges, attempts, redis };
}

describe('ClusterObservers: one observer per cluster across workers (real Redis)', function () {
  this.timeout(30_000);
  const prefix = `${REDIS_PREFIX}-observers`;
  const started: ReturnType<typeof worker>[] = [];
  const start = (names: string[], leaseTtlMs?: number) => {
    const w = worker(prefix, names, leaseTtlMs);
    started.push(w);
    w.observers.start();
    return w;
  };

  afterEach(async () => {
    for (const w of started.splice(0)) {
      await w.observers.stop();
      w.redis.disconnect();
    }
    await deleteRedisKeys(prefix);
  });

  it('each cluster is observed by exactly one of three workers, every poll', async () => {
    const names = ['a', 'b', 'c', 'd'];
    const workers = [start(names), start(names), start(names)];
    await waitFor('five ticks each', () => names.every((n) => workers.some((w) => (w.ticks.get(n) ?? 0) >= 5)));
    for (const name of names) {
      const holders = workers.filter((w) => w.observers.observing().includes(name));
      expect(holders, `holders of ${name}`).to.have.length(1);
      expect(
        workers.filter((w) => w.ticks.has(name)),
        `tickers of ${name}`,
      ).to.have.length(1);
    }
  });

  it('a clean stop gives the lease back: another worker takes over within a poll or two', async () => {
    const first = start(['a']);
    await waitFor('the first worker observing', () => (first.ticks.get('a') ?? 0) >= 1);
    const second = start(['a']);
    await first.observers.stop();
    const stoppedAt = Date.now();
    await waitFor('the second worker observing', () => (second.ticks.get('a') ?? 0) >= 1);
    expect(Date.now() - stoppedAt).to.be.below(POLL_MS * 10);
  });

  it('a worker cut off from Redis keeps the lease until its TTL: it stops observing, then another takes over', async () => {
    const first = start(['a']);
    await waitFor('the first worker observing', () => (first.ticks.get('a') ?? 0) >= 1);
    const second = start(['a']);
    // No more renewals, no release: as a worker that died, or lost its network.
    first.redis.disconnect();
    const diedAt = Date.now();
    await waitFor('the second worker observing', () => (second.ticks.get('a') ?? 0) >= 1, 15_000);
    const tookMs = Date.now() - diedAt;
    const ttl = first.observers.ttlMs;
    // The last renewal came at most a third of the TTL before the cut.
    expect(tookMs).to.be.within(ttl - ttl / 3 - 2 * POLL_MS, ttl + 5 * POLL_MS);
    expect(first.observers.observing()).to.deep.equal([]);
    expect(await first.gauges('a')).to.deep.equal([]);
  });

  it('a renewal finding another owner: the cluster dropped at once, its gauges gone from /metrics, no more writes', async () => {
    const w = start(['a', 'b'], 1_000);
    await waitFor(
      'gauges for both clusters',
      async () => (await w.gauges('a')).length === 2 && (await w.gauges('b')).length === 2,
    );
    expect(await w.gauges('a')).to.deep.equal([
      'cluster_reachable{cluster="a",process="worker"} 1',
      'cluster_observed_executions{cluster="a",process="worker"} 3',
    ]);
    // Another worker took the key (this one's lease had expired in Redis, say).
    await w.redis.set(`${prefix}:lease:observer:a`, 'another-worker', 'PX', 60_000);
    await waitFor('the worker to drop cluster a', () => !w.observers.observing().includes('a'), 5_000, 10);
    expect(await w.gauges('a')).to.deep.equal([]);
    expect(w.stillHolds.get('a')?.()).to.equal(false);
    const writes = w.writes.get('a');
    const attempts = w.attempts('a');
    // It tries to take the lease back every poll, and fails: no tick, no write, no gauge.
    await waitFor('five more tries to take the lease', () => w.attempts('a') >= attempts + 5);
    expect(w.writes.get('a')).to.equal(writes);
    expect(await w.gauges('a')).to.deep.equal([]);
    expect(w.observers.observing()).to.deep.equal(['b']);
    expect(await w.gauges('b')).to.have.length(2);
  });

  it('a clean stop removes the gauges of every cluster it observed', async () => {
    const w = start(['a'], 1_000);
    await waitFor('gauges for cluster a', async () => (await w.gauges('a')).length === 2);
    await w.observers.stop();
    expect(await w.gauges('a')).to.deep.equal([]);
  });
});
