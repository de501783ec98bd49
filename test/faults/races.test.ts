import { SCHEDULES_QUEUE } from '@flink-orchestrator/queue-bullmq';
import { Queue } from 'bullmq';
import { expect } from 'chai';
import IORedis from 'ioredis';
import { Client } from 'pg';
import { startApi } from '../support/api-process';
import { client } from '../support/http';
import { assertHarnessIntegrity } from '../support/integrity';
import { PipelineHarness } from '../support/pipeline-harness';
import { seededRandom, seedFrom } from '../support/seeded';
import { databaseUrl, REDIS_PREFIX, REDIS_URL } from '../support/test-env';
import { waitFor } from '../support/wait';
import { checkInvariants } from './support/invariants';

/**
 * Each actor draws its moves from its own generator, seeded from RACES_SEED, so a failing
 * run replays the same sequence of requests per actor (their interleaving still depends on
 * timing). The seed is printed first, and in every failure, timeouts included.
 */
const seed = seedFrom('RACES_SEED');
const replay = `replay: RACES_SEED=${seed}`;

const CLASSES = [
  'org.apache.flink.streaming.examples.windowing.TopSpeedWindowing',
  'org.apache.flink.streaming.examples.wordcount.WordCount',
];

describe('fault: two API replicas and three workers, with starts, stops and schedule changes racing', function () {
  this.timeout(300_000);
  // A replace tick may wait this long for the execution it replaces; ticks drain within it.
  const REPLACE_WAIT_MS = 10_000;
  // Queues of its own: schedules other test files left behind must not count as undrained.
  const QUEUE_PREFIX = `${REDIS_PREFIX}-races`;
  const h = new PipelineHarness({
    workers: 3,
    apiEnv: { QUEUE_PREFIX },
    workerEnv: { QUEUE_PREFIX, SCHEDULE_REPLACE_WAIT_MS: String(REPLACE_WAIT_MS) },
  });
  before(() => {
    process.stdout.write(`      races seed ${seed} (${replay})\n`);
    return h.start();
  });
  after(() => h.stop());
  afterEach(async function () {
    // A mocha timeout never reaches the test's own catch: name the seed here too.
    if (this.currentTest?.state === 'failed') process.stdout.write(`      races failed (${replay})\n`);
    await assertHarnessIntegrity(h, replay);
  });

  it(`keeps every invariant (${replay})`, async () => {
    try {
      await race();
    } catch (error) {
      if (error instanceof Error) error.message = `${error.message} (${replay})`;
      throw error;
    }
  });

  async function race(): Promise<void> {
    const second = await startApi({ QUEUE_PREFIX, FLINK_JOBMANAGER_URL: h.flink.url });
    const apis = [h.http, client(second.url)];
    try {
      const jobs: { id: string }[] = [];
      for (let i = 0; i < 12; i++) jobs.push(await h.createJob(CLASSES[i % 2] as string));
      const accepted: string[] = [];
      const statuses = new Map<string, number>();
      const deadline = Date.now() + 20_000;
      const actor = async (index: number) => {
        const random = seededRandom(seed * 8 + index);
        while (Date.now() < deadline) {
          const api = apis[Math.floor(random() * apis.length)] ?? h.http;
          const job = jobs[Math.floor(random() * jobs.length)] as { id: string };
          const roll = random();
          let res;
          if (roll < 0.45) res = await api.post(`/api/v1/jobs/${job.id}/start`);
          else if (roll < 0.75)
            res = await api.post(`/api/v1/jobs/${job.id}/stop`, random() < 0.3 ? { savepoint: true } : undefined);
          else if (roll < 0.9)
            res = await api.post(`/api/v1/jobs/${job.id}/schedule`, {
              cron: random() < 0.5 ? '* * * * * *' : '*/2 * * * * *',
              overlap: (['skip', 'allow', 'replace'] as const)[Math.floor(random() * 3)],
            });
          else res = await api.delete(`/api/v1/jobs/${job.id}/schedule`);
          const key = `${roll < 0.45 ? 'start' : roll < 0.75 ? 'stop' : 'schedule'} ${res.status}`;
          statuses.set(key, (statuses.get(key) ?? 0) + 1);
          expect(res.status, JSON.stringify(res.body)).to.be.below(500);
          if (roll < 0.45 && res.status === 202) accepted.push(res.body.id);
        }
      };
      await Promise.all(Array.from({ length: 8 }, (_, i) => actor(i)));
      for (const job of jobs) await h.http.delete(`/api/v1/jobs/${job.id}/schedule`);
      await ticksDrained(new Set(jobs.map((j) => j.id)));
      for (const job of jobs) await h.http.post(`/api/v1/jobs/${job.id}/stop`);
      // Settle: every execution ends (stops in flight finish, schedule ticks drain).
      const db = new Client({ connectionString: databaseUrl() });
      await db.connect();
      try {
        const ids = jobs.map((j) => j.id);
        await waitFor(
          'every execution to settle',
          async () => {
            const { rows } = await db.query(
              `SELECT count(*)::int AS n FROM job_executions WHERE job_id = ANY($1::uuid[]) AND status IN ('QUEUED','SUBMITTING','STOPPING')`,
              [ids],
            );
            if (rows[0].n > 0) return false;
            const running = await db.query(
              `SELECT job_id FROM job_executions WHERE job_id = ANY($1::uuid[]) AND status = 'RUNNING'`,
              [ids],
            );
            for (const r of running.rows) await h.http.post(`/api/v1/jobs/${r.job_id}/stop`);
            return running.rows.length === 0;
          },
          120_000,
          500,
        );
        const all = await db.query(`SELECT id FROM job_executions WHERE job_id = ANY($1::uuid[])`, [ids]);
        // Every accepted start has its execution.
        const known = new Set(all.rows.map((r) => r.id));
        for (const id of accepted) expect(known.has(id), `accepted start ${id} has no execution`).to.equal(true);
        const duplicateTicks = await db.query(
          `SELECT job_id, scheduled_for FROM job_executions WHERE job_id = ANY($1::uuid[]) AND scheduled_for IS NOT NULL GROUP BY 1, 2 HAVING count(*) > 1`,
          [ids],
        );
        expect(duplicateTicks.rows).to.deep.equal([]);
        const tally = await checkInvariants(h, [...known] as string[], replay);
        process.stdout.write(
          `      races: requests ${JSON.stringify(Object.fromEntries(statuses))}; executions ${JSON.stringify(tally)}\n`,
        );
      } finally {
        await db.end();
      }
    } finally {
      await second.close();
    }
  }

  /**
   * No schedule of these jobs left, and no tick of theirs still waiting or being turned into
   * an execution. Only theirs: the workers' reconciler also brings back the timers of
   * schedules that earlier test files left in the shared database.
   */
  async function ticksDrained(ours: Set<string>): Promise<void> {
    const redis = new IORedis(REDIS_URL, { maxRetriesPerRequest: null });
    const ticks = new Queue(SCHEDULES_QUEUE, { connection: redis, prefix: QUEUE_PREFIX });
    let last = '';
    try {
      await waitFor(
        'the schedule ticks to drain',
        async () => {
          const schedulers = (await ticks.getJobSchedulers(0, -1)).filter((s) =>
            ours.has((s.id ?? s.key).replace(/^job-/, '')),
          );
          const pending = (await ticks.getJobs(['waiting', 'active', 'delayed', 'prioritized'])).filter((t) =>
            ours.has(t.data.jobId),
          );
          last = JSON.stringify({ schedulers: schedulers.map((s) => s.key), pending: pending.map((t) => t.id) });
          return schedulers.length === 0 && pending.length === 0;
        },
        // Every pending tick may wait out a replace, and a failed tick retries with backoff.
        6 * REPLACE_WAIT_MS,
      );
    } catch (error) {
      if (error instanceof Error) error.message += `; last seen: ${last}`;
      throw error;
    } finally {
      await ticks.close();
      redis.disconnect();
    }
  }
});
