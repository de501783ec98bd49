import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import {
  DEFAULT_OBSERVER_SETTINGS,
  ObserveCluster,
  type Cluster,
  type ClusterRepository,
  type FlinkClusters,
} from '@flink-orchestrator/domain';
import { FlinkRestClient } from '@flink-orchestrator/flink-rest';
import { FlinkTestDouble } from '@flink-orchestrator/flink-test-double';
import { createLogger, Metrics, systemClock } from '@flink-orchestrator/observability';
import {
  connect,
  KnexClusterObservations,
  KnexClusterRepository,
  KnexExecutionRepository,
  type Knex,
} from '@flink-orchestrator/postgres';
import { RedisLease, redisConnection } from '@flink-orchestrator/queue-bullmq';
import { ClusterObservers } from '../src/cluster-observers';
import { observerMetrics } from '../src/observer-metrics';
import { FlinkProxy } from '../../../test/support/flink-proxy';
import { databaseUrl, deleteRedisKeys, REDIS_PREFIX, REDIS_URL } from '../../../test/support/test-env';
import { GiveUp, waitFor } from '../../../test/support/wait';

const POLL_MS = 100;
const TTL_MS = 1_000;
const log = createLogger({ level: 'silent', name: 'test' });

interface TestWorker {
  observers: ClusterObservers;
  redis: ReturnType<typeof redisConnection>;
  /** Ticks that ended, written or not. */
  counts: { ticksEnded: number };
  /** This worker's cluster_reachable lines for the test cluster. */
  gauges: () => Promise<string[]>;
}

/**
 * Real observers (ObserveCluster over PostgreSQL, the REST client through the fault proxy
 * in front of the Flink double) under the real lease in Redis: a slow Flink, a lease lost
 * mid-tick, a route the proxy refuses.
 */
describe('cluster observers on Flink: a slow tick, a lost lease, a refused route (real Redis, PostgreSQL)', function () {
  this.timeout(60_000);
  const prefix = `${REDIS_PREFIX}-observer-lease`;
  const flink = new FlinkTestDouble({ slots: 4, defaultParallelism: 2 });
  let proxy: FlinkProxy;
  let db: Knex;
  let cluster: Cluster;
  let observations: KnexClusterObservations;
  const started: TestWorker[] = [];

  before(async () => {
    await flink.start();
    proxy = new FlinkProxy(flink.url);
    await proxy.start();
    db = connect(databaseUrl());
    observations = new KnexClusterObservations(db);
    cluster = await new KnexClusterRepository(db).create({
      name: `lease-${randomUUID().slice(0, 8)}`,
      url: proxy.url,
      auth: null,
      savepointDir: null,
    });
  });
  afterEach(async () => {
    for (const w of started.splice(0)) {
      await w.observers.stop();
      w.redis.disconnect();
    }
    await deleteRedisKeys(prefix);
    await db('cluster_observations').where({ cluster: cluster.name }).delete();
  });
  after(async () => {
    await new KnexClusterRepository(db).delete(cluster.name).catch(() => undefined);
    await db.destroy();
    await proxy.stop();
    await flink.stop();
  });

  /** One worker's observer loop for the test cluster only (other tests' clusters are not its to observe). */
  function worker(): TestWorker {
    const redis = redisConnection(REDIS_URL, 'producer');
    const lease = new RedisLease(redis, prefix);
    const metrics = new Metrics('worker');
    const client = new FlinkRestClient({ baseUrl: `${proxy.url}/v1`, timeoutMs: 15_000 });
    const clusters: FlinkClusters = {
      gatewayFor: () => Promise.resolve({ cluster: cluster.name, flink: client, savepointDir: null }),
    };
    const registry = { list: () => Promise.resolve([cluster]) } as unknown as ClusterRepository;
    const counts = { ticksEnded: 0 };
    const observers = new ClusterObservers({
      clusters: registry,
      lease,
      pollIntervalMs: POLL_MS,
      leaseTtlMs: TTL_MS,
      log,
      ...observerMetrics(metrics),
      observerFor: (name, stillHolds) => {
        const observer = new ObserveCluster({
          cluster: name,
          executions: new KnexExecutionRepository(db),
          observations,
          clusters,
          clock: systemClock,
          log,
          // Saved every tick: a tick that wrote shows in `observedAt`.
          settings: { ...DEFAULT_OBSERVER_SETTINGS, slotsEvery: 1, heartbeatMs: 0, lostGraceMs: 60_000 },
          stillHolds,
        });
        const tick = observer.tick.bind(observer);
        observer.tick = () => tick().finally(() => counts.ticksEnded++);
        return observer;
      },
    });
    const gauges = async () =>
      (await metrics.registry.metrics())
        .split('\n')
        .filter((line) => line.startsWith('cluster_reachable{') && line.includes(`cluster="${cluster.name}"`));
    const w = { observers, redis, counts, gauges };
    started.push(w);
    observers.start();
    return w;
  }

  const observedAt = async () => (await observations.get(cluster.name))?.observedAt.getTime() ?? 0;
  const observing = (w: TestWorker) => w.observers.observing().includes(cluster.name);

  it('a tick held longer than the TTL keeps the lease: no second observer starts meanwhile, and its write lands', async () => {
    const first = worker();
    await waitFor('a first observation', async () => (await observedAt()) > 0);
    const second = worker();
    const held = proxy.hold('/jobs/overview');
    await waitFor('a tick waiting for Flink', () => held.waiting === 1, 5_000, 10);
    const heldAt = Date.now();
    const before = await observedAt();
    await waitFor('three TTLs with the tick held', () => {
      if (observing(second)) throw new GiveUp('a second observer started while the first one ticked');
      return Date.now() - heldAt > 3 * first.observers.ttlMs;
    });
    expect(held.waiting).to.equal(1);
    held.release();
    await waitFor('the held tick to write', async () => (await observedAt()) > before);
    expect(observing(first)).to.equal(true);
    expect(observing(second)).to.equal(false);
    expect(await first.gauges()).to.have.length(1);
    expect(await second.gauges()).to.deep.equal([]);
  });

  it('a held tick whose lease went to another worker writes nothing once Flink answers, and sets no gauge', async () => {
    const first = worker();
    await waitFor('a first observation', async () => (await observedAt()) > 0);
    const held = proxy.hold('/jobs/overview');
    await waitFor('a tick waiting for Flink', () => held.waiting === 1, 5_000, 10);
    const ended = first.counts.ticksEnded;
    const before = await observedAt();
    await first.redis.set(`${prefix}:lease:observer:${cluster.name}`, 'another-worker', 'PX', 60_000);
    await waitFor('the first worker to drop the cluster', () => !observing(first), 5_000, 10);
    expect(await first.gauges()).to.deep.equal([]);
    held.release();
    await waitFor('the late tick to end', () => first.counts.ticksEnded > ended);
    expect(await observedAt()).to.equal(before);
    expect(await first.gauges()).to.deep.equal([]);
  });

  it('GET /jobmanager/config refused by the proxy: the slot figures from /overview are recorded and admission reads them', async () => {
    proxy.refuse('/jobmanager/config', 403);
    try {
      worker();
      const slots = await waitFor(
        'slot figures',
        async () => (await observations.get(cluster.name))?.slots ?? undefined,
      );
      expect(proxy.refusedCount('/jobmanager/config')).to.be.at.least(1);
      expect(slots).to.include({ slotsTotal: 4, slotsFree: 4, taskManagers: 1, defaultParallelism: null });
      // What slot-aware admission reads before it lets an execution go to Flink.
      const free = await observations.freeSlots(cluster.name, 0);
      expect(free?.free).to.equal(4);
      expect(free?.figures.slotsTotal).to.equal(4);
    } finally {
      proxy.allow('/jobmanager/config');
    }
  });
});
