import { expect } from 'chai';
import type { Cluster, ClusterRepository, ObservationReport, ObserveCluster } from '@flink-orchestrator/domain';
import { createLogger } from '@flink-orchestrator/observability';
import { RedisLease, redisConnection } from '@flink-orchestrator/queue-bullmq';
import { ClusterObservers } from '../src/cluster-observers';
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

/** A worker's observer loop whose observers only count their ticks, by cluster. */
function worker(prefix: string, names: string[]) {
  const redis = redisConnection(REDIS_URL, 'producer');
  const ticks = new Map<string, number>();
  const report: ObservationReport = { reachable: true, flinkCalls: 1, observed: 0, stateChanges: 0, ended: 0, lost: 0 };
  const observers = new ClusterObservers({
    clusters: registry(names),
    lease: new RedisLease(redis, prefix),
    pollIntervalMs: POLL_MS,
    log,
    observerFor: (cluster) =>
      ({
        tick: () => {
          ticks.set(cluster, (ticks.get(cluster) ?? 0) + 1);
          return Promise.resolve(report);
        },
      }) as unknown as ObserveCluster,
  });
  return { observers, ticks, redis };
}

describe('ClusterObservers: one observer per cluster across workers (real Redis)', function () {
  this.timeout(30_000);
  const prefix = `${REDIS_PREFIX}-observers`;
  const started: ReturnType<typeof worker>[] = [];
  const start = (names: string[]) => {
    const w = worker(prefix, names);
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

  it('a worker that dies keeps the lease until its TTL: then another takes over', async () => {
    const first = start(['a']);
    await waitFor('the first worker observing', () => (first.ticks.get('a') ?? 0) >= 1);
    const second = start(['a']);
    // Dies: no more renewals, no release.
    (first.observers as unknown as { stopped: boolean }).stopped = true;
    const diedAt = Date.now();
    await waitFor('the second worker observing', () => (second.ticks.get('a') ?? 0) >= 1, 15_000);
    const tookMs = Date.now() - diedAt;
    expect(tookMs).to.be.within(first.observers.ttlMs - 2 * POLL_MS, first.observers.ttlMs + 5 * POLL_MS);
  });
});
