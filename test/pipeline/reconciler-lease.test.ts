import { randomUUID } from 'node:crypto';
import { RedisLease } from '@flink-orchestrator/queue-bullmq';
import { expect } from 'chai';
import IORedis from 'ioredis';
import { choreRuns } from '../support/chore-runs';
import { PipelineHarness } from '../support/pipeline-harness';
import { REDIS_PREFIX, REDIS_URL } from '../support/test-env';
import { waitFor } from '../support/wait';
import type { ServiceProcess } from '../support/worker-processes';

/**
 * The lease under which one worker per period runs the chores (schedule timers, the
 * reconciler's sweep, JAR garbage collection): exclusive while held, and passed on when it
 * expires, so chores go on when the worker that held it dies.
 */
describe("the reconciler's lease", function () {
  this.timeout(120_000);

  describe('RedisLease (real Redis)', () => {
    const redis = new IORedis(REDIS_URL);
    const prefix = `${REDIS_PREFIX}-lease-${randomUUID().slice(0, 6)}`;
    after(() => redis.disconnect());

    it('ten contenders at once: exactly one gets it; nobody, the holder included, until it expires', async () => {
      const leases = Array.from({ length: 10 }, () => new RedisLease(redis, prefix));
      const won = await Promise.all(leases.map((l) => l.tryAcquire('exclusive', 10_000)));
      expect(won.filter(Boolean)).to.have.length(1);
      const holder = leases[won.indexOf(true)] as RedisLease;
      expect(await holder.tryAcquire('exclusive', 10_000), 'the holder again').to.equal(false);
      expect(await Promise.all(leases.map((l) => l.tryAcquire('exclusive', 10_000)))).to.deep.equal(
        leases.map(() => false),
      );
      const ttl = await redis.pttl(`${prefix}:lease:exclusive`);
      expect(ttl).to.be.within(1, 10_000);
    });

    it('expires after its TTL, and then goes to whoever asks first', async () => {
      const [a, b] = [new RedisLease(redis, prefix), new RedisLease(redis, prefix)] as const;
      expect(await a.tryAcquire('expiring', 300)).to.equal(true);
      expect(await b.tryAcquire('expiring', 300)).to.equal(false);
      const at = Date.now();
      await waitFor('the lease to pass on', () => b.tryAcquire('expiring', 300), 5000, 20);
      expect(Date.now() - at).to.be.below(1000);
      expect(await a.tryAcquire('expiring', 300)).to.equal(false);
    });

    it('release gives the lease back at once, and only from its holder', async () => {
      const [a, b] = [new RedisLease(redis, prefix), new RedisLease(redis, prefix)] as const;
      expect(await a.tryAcquire('released', 60_000)).to.equal(true);
      await b.release('released'); // not b's: nothing happens
      expect(await b.tryAcquire('released', 60_000)).to.equal(false);
      await a.release('released');
      expect(await b.tryAcquire('released', 60_000)).to.equal(true);
    });

    it('leases of different names are independent', async () => {
      const lease = new RedisLease(redis, prefix);
      expect(await lease.tryAcquire('one', 5000)).to.equal(true);
      expect(await new RedisLease(redis, prefix).tryAcquire('two', 5000)).to.equal(true);
    });
  });

  describe('three workers sharing it', () => {
    // Chores every 4 s under a 3 s lease (RECONCILE_INTERVAL_MS − 1 s). Each run the lease
    // holder completes logs `chores done` with when it began: the runs themselves, counted.
    // Without the lease, three workers would each run them every period: three runs per 4 s,
    // so two within 4/3 s of each other, however the workers' timers fall; with it, none within 3 s.
    const PERIOD = 4000;
    const LEASE = PERIOD - 1000;
    const h = new PipelineHarness({ workers: 3, workerEnv: { RECONCILE_INTERVAL_MS: String(PERIOD) } });
    let workers: ServiceProcess[] = [];
    before(async () => {
      await h.start();
      workers = [...h.workers]; // the killed ones' lines count too
    });
    after(() => h.stop());

    /** When each chore run since `from` began, in order, and the gaps between them. */
    const runsSince = (from: number) => {
      const runs = choreRuns(workers).filter((t) => t >= from);
      return { runs, gaps: runs.slice(1).map((t, i) => t - (runs[i] as number)) };
    };

    it('the chores run once per period across the workers, and go on after the others are killed', async () => {
      const started = Date.now();
      await waitFor('five chore runs', () => runsSince(started).runs.length >= 5, 40_000);
      const before = runsSince(started).gaps;
      expect(Math.min(...before), `gaps ${before.join(', ')} ms`).to.be.at.least(LEASE - 1000);
      expect(Math.max(...before), `gaps ${before.join(', ')} ms`).to.be.at.most(2 * PERIOD);

      // Two of the three die without a word; whichever held the lease, the chores go on.
      const victims = h.workers.splice(0, 2);
      await Promise.all(victims.map((w: ServiceProcess) => w.kill('SIGKILL')));
      const killed = Date.now();
      await waitFor('three chore runs after the kills', () => runsSince(killed).runs.length >= 3, 40_000);
      const after = runsSince(killed).gaps;
      expect(Math.min(...after), `gaps ${after.join(', ')} ms`).to.be.at.least(LEASE - 1000);
      expect(Math.max(...after), `gaps ${after.join(', ')} ms`).to.be.at.most(2 * PERIOD);
    });
  });
});
