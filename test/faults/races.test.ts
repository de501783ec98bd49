import { expect } from 'chai';
import { Client } from 'pg';
import { startApi } from '../support/api-process';
import { client } from '../support/http';
import { PipelineHarness } from '../support/pipeline-harness';
import { databaseUrl } from '../support/test-env';
import { sleep, waitFor } from '../support/wait';
import { checkInvariants } from './support/invariants';

const CLASSES = [
  'org.apache.flink.streaming.examples.windowing.TopSpeedWindowing',
  'org.apache.flink.streaming.examples.wordcount.WordCount',
];

describe('fault: two API replicas and three workers, with starts, stops and schedule changes racing', function () {
  this.timeout(300_000);
  const h = new PipelineHarness({ workers: 3 });
  before(() => h.start());
  after(() => h.stop());

  it('keeps every invariant', async () => {
    const second = await startApi();
    const apis = [h.http, client(second.url)];
    try {
      const jobs: { id: string }[] = [];
      for (let i = 0; i < 12; i++) jobs.push(await h.createJob(CLASSES[i % 2] as string));
      const accepted: string[] = [];
      const statuses = new Map<string, number>();
      let next = 1;
      const random = () => (next = (next * 48271) % 2147483647) / 2147483647;
      const deadline = Date.now() + 20_000;
      const actor = async () => {
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
      await Promise.all(Array.from({ length: 8 }, actor));
      for (const job of jobs) await h.http.delete(`/api/v1/jobs/${job.id}/schedule`);
      await sleep(1500);
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
        const tally = await checkInvariants(h, [...known] as string[]);
        process.stdout.write(
          `      races: requests ${JSON.stringify(Object.fromEntries(statuses))}; executions ${JSON.stringify(tally)}\n`,
        );
      } finally {
        await db.end();
      }
    } finally {
      await second.close();
    }
  });
});
