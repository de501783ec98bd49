import { expect } from 'chai';
import { assertHarnessIntegrity } from '../support/integrity';
import { PipelineHarness } from '../support/pipeline-harness';
import { GiveUp, sleep, waitFor } from '../support/wait';
import { checkInvariants } from './support/invariants';
import { OwnRedis } from './support/own-services';

const STREAMING = 'org.apache.flink.streaming.examples.windowing.TopSpeedWindowing';
const FINISHING = 'org.apache.flink.streaming.examples.wordcount.WordCount';

describe("fault: Redis stopped and Redis flushed (a Redis of the suite's own)", function () {
  this.timeout(300_000);
  const redis = new OwnRedis();
  let h: PipelineHarness;
  before(async () => {
    await redis.start();
    const env = { REDIS_URL: redis.url, RECONCILE_INTERVAL_MS: '3000' };
    h = new PipelineHarness({ workers: 2, apiEnv: env, workerEnv: env });
    await h.start();
  });
  after(async () => {
    await h?.stop();
    await redis.stop();
  });
  afterEach(() => assertHarnessIntegrity(h));

  it('stopped under a start load until the API and every worker saw it: 503 (never 500), nothing half-created, the accepted ones run after', async () => {
    const jobs = [];
    for (let i = 0; i < 40; i++) jobs.push(await h.createJob(STREAMING));
    const accepted: string[] = [];
    const refused: { jobId: string; sentAt: number; answeredAt: number }[] = [];
    const statuses = new Map<number, number>();
    let loadDone = false;
    const load = (async () => {
      for (const job of jobs) {
        const sentAt = Date.now();
        const res = await h.http.post(`/api/v1/jobs/${job.id}/start`);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status === 202) accepted.push(res.body.id);
        else {
          expect(res.status, JSON.stringify(res.body)).to.equal(503);
          expect(res.body.error.code).to.equal('dependency_unavailable');
          refused.push({ jobId: job.id, sentAt, answeredAt: Date.now() });
        }
        await sleep(400); // the load's pace, not a wait for something
      }
    })().finally(() => (loadDone = true));
    await waitFor('a few starts accepted before the outage', () => accepted.length >= 3);
    const outageFrom = Date.now();
    const marks = h.workers.map((w) => w.logged);
    await redis.stop();
    // The outage lasts until both sides have met it: the API refused more than five starts, and
    // every worker failed a chore on Redis (its reconcile runs every RECONCILE_INTERVAL_MS).
    await waitFor(
      'the API to refuse starts and every worker to fail a chore on Redis',
      () => {
        if (loadDone) throw new GiveUp(`the load ended with ${refused.length} starts refused`);
        return (
          refused.length > 5 &&
          h.workers.every((w, i) => w.loggedSince(marks[i] ?? 0).includes('periodic chore failed'))
        );
      },
      60_000,
      50,
    );
    await redis.start();
    // The outage lasts until the API reaches Redis again (its client reconnects with a backoff).
    await waitFor(
      'the API to reach Redis again',
      async () => (await h.http.get('/health')).body?.checks?.redis === 'ok',
      30_000,
      50,
    );
    const outageUntil = Date.now();
    await load;
    // A 503 only for a start that was in flight during the outage.
    for (const r of refused)
      expect(
        r.answeredAt >= outageFrom && r.sentAt <= outageUntil,
        `a 503 outside the outage (${outageFrom}–${outageUntil}): ${JSON.stringify(r)}`,
      ).to.equal(true);
    expect(refused.length, 'some starts fell in the outage').to.be.greaterThan(5);
    for (const { jobId } of refused) {
      expect(
        (await h.http.get(`/api/v1/jobs/${jobId}/executions`)).body,
        `job ${jobId} has a half-created execution`,
      ).to.deep.equal([]);
    }
    for (const id of accepted) await h.waitForStatus(id, 'RUNNING', 120_000);
    const tally = await checkInvariants(h, accepted);
    process.stdout.write(
      `      redis outage: statuses ${JSON.stringify(Object.fromEntries(statuses))}, accepted ${JSON.stringify(tally)}\n`,
    );
    for (const job of jobs) await h.http.post(`/api/v1/jobs/${job.id}/stop`);
  });

  it('flushed: schedules come back from PostgreSQL and queued executions are sent again', async () => {
    const scheduled = await h.createJob(FINISHING);
    await h.http.post(`/api/v1/jobs/${scheduled.id}/schedule`, { cron: '* * * * * *', overlap: 'allow' });
    // Executions queued while no worker runs, then the queue loses them.
    const workers = h.workers.splice(0);
    await Promise.all(workers.map((w) => w.kill('SIGTERM')));
    const queued = [];
    for (let i = 0; i < 5; i++) queued.push(await h.start202((await h.createJob(STREAMING)).id));
    await redis.flushAll();
    const flushedAt = Date.now();
    h.workers.push(...(await h.addWorkers(2)));
    for (const e of queued) await h.waitForStatus(e.id, 'RUNNING', 90_000);
    await waitFor(
      'a tick after the flush',
      async () => {
        const rows = (await h.http.get(`/api/v1/jobs/${scheduled.id}/executions`)).body as { scheduledFor: string }[];
        return rows.some((r) => new Date(r.scheduledFor).getTime() > flushedAt);
      },
      60_000,
    );
    process.stdout.write(`      schedule back ${Math.round((Date.now() - flushedAt) / 100) / 10} s after the flush\n`);
    await h.http.delete(`/api/v1/jobs/${scheduled.id}/schedule`);
    await checkInvariants(
      h,
      queued.map((e) => e.id),
    );
  });
});
