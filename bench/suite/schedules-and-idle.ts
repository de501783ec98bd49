import {
  cpuShares,
  pgWrites,
  processStats,
  round,
  sql,
  writesPer,
  type Benchmark,
  type BenchContext,
  type BenchResult,
} from '../lib';
import { Queue, Worker } from 'bullmq';
import * as hdr from 'hdr-histogram-js';
import IORedis from 'ioredis';
import { call, startStack, type Running } from './services';

const STREAMING = 'org.apache.flink.streaming.examples.windowing.TopSpeedWindowing';

/** Creates `count` streaming jobs and starts them all, waiting until every one is RUNNING. */
async function runningJobs(ctx: BenchContext, apiUrl: string, count: number, label: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const res = await call<{ id: string }>(`${apiUrl}/api/v1/jobs`, 'POST', {
      name: `bench-${label}-${ctx.prefix}-${i}`,
      jarURL: 'bench.jar',
      entryClass: STREAMING,
    });
    ids.push(res.body.id);
    await call(`${apiUrl}/api/v1/jobs/${res.body.id}/start`, 'POST');
  }
  const deadline = Date.now() + 300_000;
  for (;;) {
    const [row] = await sql<{ n: number }>(
      ctx,
      `SELECT count(*)::int AS n FROM job_executions WHERE job_id = ANY($1::uuid[]) AND status = 'RUNNING'`,
      [ids],
    );
    if (row?.n === count) return ids;
    if (Date.now() > deadline) throw new Error(`only ${row?.n} of ${count} executions reached RUNNING`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function scrape(worker: Running & { metricsUrl: string }): Promise<string> {
  return (await fetch(worker.metricsUrl)).text();
}

function counter(metrics: string, name: string, labels: string): number {
  const line = metrics.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line ? Number(line.split(' ').pop()) : 0;
}

/**
 * The baseline for 4: bare BullMQ job schedulers on the same cron, with a processor that
 * does nothing, so what BullMQ's own timer adds to the lateness shows beside ours.
 */
async function bareSchedulerLateness(ctx: BenchContext, jobs: number, seconds: number) {
  const connection = new IORedis(ctx.redisUrl, { maxRetriesPerRequest: null });
  const workerConnection = connection.duplicate();
  const prefix = `${ctx.prefix}-bare-sched`;
  const queue = new Queue('ticks', { connection, prefix });
  const histogram = hdr.build();
  const worker = new Worker(
    'ticks',
    (job) => {
      histogram.recordValue(Math.max(0, Date.now() - (job.opts.prevMillis ?? Date.now())));
      return Promise.resolve();
    },
    { connection: workerConnection, prefix, concurrency: 50 },
  );
  for (let i = 0; i < jobs; i++) {
    await queue.upsertJobScheduler(
      `bare-${i}`,
      { pattern: '* * * * * *' },
      { name: 'tick', opts: { removeOnComplete: 1000 } },
    );
  }
  await new Promise((r) => setTimeout(r, seconds * 1000));
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  workerConnection.disconnect();
  return { p50: histogram.getValueAtPercentile(50), p99: histogram.getValueAtPercentile(99) };
}

export const schedulesAndIdleBenchmark: Benchmark = async (ctx) => {
  const jobs = ctx.quick ? 50 : 500;
  const seconds = ctx.quick ? 8 : 30;
  ctx.log(`4: baseline, ${jobs} bare BullMQ job schedulers for ${seconds} s`);
  const bare = await bareSchedulerLateness(ctx, jobs, seconds);
  const stack = await startStack(ctx, { apiPort: 18512, jarClass: STREAMING });
  const results: BenchResult[] = [];
  try {
    // Slow polling keeps 500 running executions from crowding out the ticks being measured.
    await stack.addWorker({ POLL_INTERVAL_MS: '10000' });
    await stack.addWorker({ POLL_INTERVAL_MS: '10000' });
    ctx.log(`4: ${jobs} jobs running, then on "* * * * * *" for ${seconds} s`);
    const ids = await runningJobs(ctx, stack.apiUrl, jobs, 'sched');
    const duplicatesBefore = (await Promise.all(stack.workers.map(scrape))).reduce(
      (s, m) => s + counter(m, 'schedule_ticks_total', 'outcome="duplicate"'),
      0,
    );
    // From before the first schedule to after the last is removed: every tick's writes, and only theirs.
    const writes = await pgWrites(ctx.databaseUrl);
    for (const id of ids) await call(`${stack.apiUrl}/api/v1/jobs/${id}/schedule`, 'POST', { cron: '* * * * * *' });
    const shares = cpuShares(
      Object.fromEntries(stack.workers.map((w, i) => [`worker${i + 1}`, w.child.pid as number])),
    );
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const cpu = shares();
    for (const id of ids) await call(`${stack.apiUrl}/api/v1/jobs/${id}/schedule`, 'DELETE');
    await new Promise((r) => setTimeout(r, 3000));
    const written = await writes();
    const duplicatesAfter = (await Promise.all(stack.workers.map(scrape))).reduce(
      (s, m) => s + counter(m, 'schedule_ticks_total', 'outcome="duplicate"'),
      0,
    );
    const ticks = await sql<{
      job_id: string;
      ticks: number;
      first: number;
      last: number;
      missed: number;
      p50: number;
      p99: number;
    }>(
      ctx,
      `SELECT job_id, count(*)::int AS ticks,
              extract(epoch from min(scheduled_for))::bigint AS first, extract(epoch from max(scheduled_for))::bigint AS last,
              count(*) FILTER (WHERE status = 'MISSED')::int AS missed
         FROM job_executions WHERE trigger = 'schedule' AND job_id = ANY($1::uuid[]) GROUP BY job_id`,
      [ids],
    );
    const [lateness] = await sql<{ p50: number; p99: number; n: number }>(
      ctx,
      `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50, percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99, count(*)::int AS n
         FROM (SELECT extract(epoch from (created_at - scheduled_for)) * 1000 AS ms FROM job_executions
                WHERE trigger = 'schedule' AND job_id = ANY($1::uuid[])) l`,
      [ids],
    );
    // The unique key should make this 0; counted, not assumed.
    const [duplicated] = await sql<{ n: number }>(
      ctx,
      `SELECT count(*)::int AS n FROM (SELECT 1 FROM job_executions
         WHERE trigger = 'schedule' AND job_id = ANY($1::uuid[]) GROUP BY job_id, scheduled_for HAVING count(*) > 1) d`,
      [ids],
    );
    const duplicatedExecutions = duplicated?.n ?? 0;
    // A gap in a job's run of whole seconds is a tick that never fired.
    const gaps = ticks.reduce((sum, t) => sum + (Number(t.last) - Number(t.first) + 1 - t.ticks), 0);
    const missed = ticks.reduce((sum, t) => sum + t.missed, 0) + gaps + (jobs - ticks.length) * seconds;
    const duplicates = duplicatesAfter - duplicatesBefore;
    const p99 = Number(lateness?.p99 ?? 0);
    results.push({
      id: 4,
      name: `Schedules: ${jobs} jobs × "* * * * * *" for ${seconds} s, 2 workers`,
      value: round(p99),
      unit: 'ms p99 lateness',
      baseline: bare.p99,
      ratio: bare.p99 > 0 ? round(p99 / bare.p99, 2) : null,
      target: '0 missed, 0 duplicated, p99 ≤ 1.5× bare',
      met: missed === 0 && duplicatedExecutions === 0 && p99 <= 1.5 * bare.p99,
      extra: {
        ticks: lateness?.n ?? 0,
        missed,
        duplicate_deliveries_absorbed: duplicates,
        duplicated_executions: duplicatedExecutions,
        p50_ms: round(Number(lateness?.p50 ?? 0)),
        baseline_p50_ms: bare.p50,
        ...cpu,
        wal_bytes_per_tick: Math.round(written.walBytes / Math.max(1, lateness?.n ?? 0)),
        rows_written_per_tick: writesPer(written, Math.max(1, lateness?.n ?? 0)),
      },
    });

    ctx.log('7: idle cost with 1,000 jobs defined and 100 running executions');
    await stack.stopWorkers();
    await sql(
      ctx,
      `UPDATE job_executions SET status = 'CANCELLED', finished_at = now() WHERE status IN ('QUEUED','SUBMITTING','RUNNING','STOPPING')`,
    );
    const extra = ctx.quick ? 0 : 1000 - jobs;
    for (let i = 0; i < extra; i++) {
      await call(`${stack.apiUrl}/api/v1/jobs`, 'POST', {
        name: `bench-idle-def-${ctx.prefix}-${i}`,
        jarURL: 'bench.jar',
      });
    }
    const worker = await stack.addWorker({ POLL_INTERVAL_MS: '2000' });
    const window = ctx.quick ? 6 : 20;
    // What Flink is asked while they run, by how many, is benchmark 8 (suite/tracking.ts).
    await runningJobs(ctx, stack.apiUrl, ctx.quick ? 10 : 100, 'idle');
    await new Promise((r) => setTimeout(r, 3000));
    const api0 = processStats(stack.api.child.pid as number);
    const w0 = processStats(worker.child.pid as number);
    await new Promise((r) => setTimeout(r, window * 1000));
    const api1 = processStats(stack.api.child.pid as number);
    const w1 = processStats(worker.child.pid as number);
    results.push({
      id: 7.1,
      name: 'Idle cost: 100 running executions tracked, 1,000 jobs',
      value: round(((w1.cpuSeconds - w0.cpuSeconds) / window) * 100, 1),
      unit: '% CPU worker',
      baseline: null,
      ratio: null,
      target: 'report',
      met: null,
      extra: {
        api_cpu_pct: round(((api1.cpuSeconds - api0.cpuSeconds) / window) * 100, 1),
        api_rss_mib: round(api1.rssMiB, 0),
        worker_rss_mib: round(w1.rssMiB, 0),
      },
    });
    return results;
  } finally {
    await stack.stop();
  }
};
