import { Queue, Worker } from 'bullmq';
import * as hdr from 'hdr-histogram-js';
import IORedis from 'ioredis';
import { Pool } from 'pg';
import {
  cpuMeter,
  pgWrites,
  ratioResult,
  round,
  type Benchmark,
  type BenchContext,
  type BenchResult,
  type Writes,
  writesPer,
} from '../lib';
import { call, startStack } from './services';

const FINISHING = 'org.apache.flink.streaming.examples.wordcount.WordCount';
const ACTIVE = ['QUEUED', 'SUBMITTING', 'RUNNING', 'STOPPING'];
// Queries the bench itself makes (waiters, samplers): left out of the commits counted.
let benchQueries = 0;

/**
 * Waits for many ids at once with one query per tick: 200 loops each polling on their own
 * would make the benchmark's own queries a large share of the load it measures.
 */
function batchWaiter(pool: Pool, sql: string, done: (row: { id: string; status?: string }) => boolean) {
  const waiting = new Map<string, () => void>();
  let closed = false;
  const tick = async () => {
    while (!closed) {
      await new Promise((r) => setTimeout(r, 20));
      if (waiting.size === 0) continue;
      benchQueries++;
      const { rows } = await pool.query<{ id: string; status?: string }>(sql, [[...waiting.keys()]]);
      for (const row of rows)
        if (done(row)) {
          waiting.get(row.id)?.();
          waiting.delete(row.id);
        }
    }
  };
  const running = tick();
  return {
    until: (id: string) => new Promise<void>((resolve) => waiting.set(id, resolve)),
    close: async () => {
      closed = true;
      await running;
    },
  };
}

/**
 * Time PostgreSQL backends of the bench database spent waiting on locks, from
 * `pg_stat_activity` sampled every 10 ms: each backend seen waiting on a heavyweight lock
 * counts the time since the last sample. What is left of 3.2's question once the machine
 * has no third core: do workers wait on each other?
 */
function lockWaits(databaseUrl: string) {
  const db = new Pool({ connectionString: databaseUrl, max: 1 });
  let closed = false;
  let waitingMs = 0;
  let samples = 0;
  // Where PostgreSQL's time goes: how often each statement was seen running.
  const active = new Map<string, number>();
  const sample = async () => {
    let last = Date.now();
    while (!closed) {
      await new Promise((r) => setTimeout(r, 10));
      benchQueries++;
      const { rows } = await db.query<{ query: string; lock: boolean }>(
        `SELECT COALESCE(wait_event_type || ':' || wait_event, 'on CPU') || '  ' || left(regexp_replace(query, '\\s+', ' ', 'g'), 60) AS query,
                wait_event_type = 'Lock' AS lock
           FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active'`,
      );
      const now = Date.now();
      waitingMs += rows.filter((r) => r.lock).length * (now - last);
      for (const { query } of rows) active.set(query, (active.get(query) ?? 0) + 1);
      samples++;
      last = now;
    }
  };
  const running = sample();
  return async () => {
    closed = true;
    await running;
    await db.end();
    const busiest = [...active].sort((a, b) => b[1] - a[1]).slice(0, 8);
    return { waitingMs, samples, busiest };
  };
}

interface RunStats {
  throughput: number;
  p50: number;
  p99: number;
}

/**
 * 200 job loops, each starting its job again as soon as the last execution ended, until
 * `starts` executions have reached RUNNING. Latency is request → RUNNING (started_at).
 */
async function startLoops(ctx: BenchContext, apiUrl: string, jobIds: string[], starts: number): Promise<RunStats> {
  const db = new Pool({ connectionString: ctx.databaseUrl, max: 2 });
  const ended = batchWaiter(
    db,
    'SELECT id, status FROM job_executions WHERE id = ANY($1::uuid[])',
    (row) => !ACTIVE.includes(row.status ?? ''),
  );
  const requested = new Map<string, number>();
  let issued = 0;
  const began = Date.now();
  const loop = async (jobId: string) => {
    while (issued < starts) {
      issued++;
      const at = Date.now();
      const res = await call<{ id: string }>(`${apiUrl}/api/v1/jobs/${jobId}/start`, 'POST');
      if (res.status !== 202) throw new Error(`start answered ${res.status}: ${JSON.stringify(res.body)}`);
      requested.set(res.body.id, at);
      await ended.until(res.body.id);
    }
  };
  await Promise.all(jobIds.map(loop));
  await ended.close();
  // extract() is numeric, which pg hands over as a string.
  benchQueries++;
  const { rows } = await db.query<{ id: string; status: string; started: string | null }>(
    `SELECT id, status, extract(epoch from started_at) * 1000 AS started FROM job_executions WHERE id = ANY($1::uuid[])`,
    [[...requested.keys()]],
  );
  await db.end();
  const histogram = hdr.build();
  let last = began;
  let failed = 0;
  for (const row of rows) {
    if (row.started === null) {
      failed++;
      continue;
    }
    const started = Number(row.started);
    last = Math.max(last, started);
    histogram.recordValue(Math.max(0, started - (requested.get(row.id) ?? started)));
  }
  if (failed > 0) throw new Error(`${failed} executions never reached RUNNING`);
  return {
    throughput: rows.length / ((last - began) / 1000),
    p50: histogram.getValueAtPercentile(50),
    p99: histogram.getValueAtPercentile(99),
  };
}

/** The baseline: the same loops over bare BullMQ, add → process → one pg update. */
/** `measured` is called when the loops are done, before the connections close (a backend gone takes its CPU figure with it). */
async function bareLoops(
  ctx: BenchContext,
  loops: number,
  total: number,
  concurrency: number,
  measured: () => Promise<void>,
): Promise<RunStats> {
  const connection = new IORedis(ctx.redisUrl, { maxRetriesPerRequest: null });
  const prefix = `${ctx.prefix}-bare`;
  const pool = new Pool({ connectionString: ctx.databaseUrl, max: concurrency });
  const processed = batchWaiter(pool, 'SELECT id FROM bench_bare WHERE id = ANY($1::text[])', () => true);
  await pool.query('CREATE TABLE IF NOT EXISTS bench_bare (id text primary key, done_at timestamptz)');
  const queue = new Queue('bare', { connection, prefix });
  // BullMQ leaves connections it was given open on close: this one is ours to end.
  const workerConnection = connection.duplicate();
  const worker = new Worker(
    'bare',
    async (job) => {
      await pool.query(
        'INSERT INTO bench_bare (id, done_at) VALUES ($1, now()) ON CONFLICT (id) DO UPDATE SET done_at = now()',
        [job.id],
      );
    },
    { connection: workerConnection, prefix, concurrency },
  );
  const histogram = hdr.build();
  let issued = 0;
  const began = Date.now();
  const loop = async (n: number) => {
    while (issued < total) {
      const id = `bare-${n}-${issued++}`;
      const at = Date.now();
      const done = processed.until(id);
      await queue.add('run', {}, { jobId: id, removeOnComplete: true });
      await done;
      histogram.recordValue(Date.now() - at);
    }
  };
  await Promise.all(Array.from({ length: loops }, (_, n) => loop(n)));
  const seconds = (Date.now() - began) / 1000;
  await measured();
  await processed.close();
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  await pool.query('DROP TABLE bench_bare');
  await pool.end();
  connection.disconnect();
  workerConnection.disconnect();
  return {
    throughput: total / seconds,
    p50: histogram.getValueAtPercentile(50),
    p99: histogram.getValueAtPercentile(99),
  };
}

/** Starts per second of `run` against `baseline`'s, with its latencies and `target.extra` in the notes. */
function startsResult(
  id: number,
  name: string,
  run: RunStats,
  baseline: RunStats,
  target: { min: number; text: string; extra: Record<string, number> },
): BenchResult {
  const { extra, ...ratio } = target;
  return ratioResult(id, name, run.throughput, baseline.throughput, 'starts/s', ratio, {
    p50_ms: run.p50,
    p99_ms: run.p99,
    ...extra,
  });
}

export const startPipelineBenchmark: Benchmark = async (ctx) => {
  const jobCount = ctx.quick ? 20 : 200;
  const starts = ctx.quick ? 100 : 2000;
  const stack = await startStack(ctx, { apiPort: 18511, jarClass: FINISHING });
  try {
    const jobIds: string[] = [];
    for (let i = 0; i < jobCount; i++) {
      const res = await call<{ id: string }>(`${stack.apiUrl}/api/v1/jobs`, 'POST', {
        name: `bench-start-${ctx.prefix}-${i}`,
        jarURL: 'bench.jar',
        entryClass: FINISHING,
      });
      jobIds.push(res.body.id);
    }
    ctx.log(`3: ${starts} starts of ${jobCount} jobs, bare BullMQ baseline`);
    // The bare loop's CPU: the bench process (its loops and its BullMQ worker), PostgreSQL, Redis.
    const bareMeter = cpuMeter({ bench: process.pid });
    let commitCount = await pgWrites(ctx.databaseUrl, () => benchQueries);
    let bareCpu = bareMeter();
    let bareCommits: Writes = { commits: 0, walBytes: 0, writes: [] };
    const bare = await bareLoops(ctx, jobCount, starts, 20, async () => {
      bareCpu = bareMeter();
      bareCommits = await commitCount();
    });
    ctx.log('3: one worker');
    const first = await stack.addWorker();
    const pids = {
      bench: process.pid,
      flink_double: stack.flink.child.pid as number,
      data_processor: stack.data.child.pid as number,
      api: stack.api.child.pid as number,
      worker1: first.child.pid as number,
    };
    let meter = cpuMeter(pids);
    let locks = lockWaits(ctx.databaseUrl);
    commitCount = await pgWrites(ctx.databaseUrl, () => benchQueries);
    const one = await startLoops(ctx, stack.apiUrl, jobIds, starts);
    const cpuOne = meter();
    const oneCommits = await commitCount();
    const locksOne = await locks();
    ctx.log(
      `3: statements seen running, of ${locksOne.samples} samples:\n${locksOne.busiest.map(([q, n]) => `  ${n}  ${q}`).join('\n')}`,
    );
    const second = await stack.addWorker();
    ctx.log('3: two workers');
    meter = cpuMeter({ ...pids, worker2: second.child.pid as number });
    locks = lockWaits(ctx.databaseUrl);
    const two = await startLoops(ctx, stack.apiUrl, jobIds, starts);
    const cpuTwo = meter();
    const locksTwo = await locks();
    // Ours: the API, the workers, PostgreSQL and Redis; not the Flink double, the
    // data-processor (stand-ins for services we call) or the bench's own loops.
    const ourMs = (cpu: typeof cpuOne) =>
      (1000 * ['api', 'worker1', 'worker2', 'postgres', 'redis'].reduce((t, k) => t + (cpu.seconds[k] ?? 0), 0)) /
      starts;
    const machineMs = (cpu: typeof cpuOne) =>
      (1000 * (cpu.machineSeconds - (cpu.seconds.flink_double ?? 0) - (cpu.seconds.data_processor ?? 0))) / starts;
    const bareMs = (1000 * Object.values(bareCpu.seconds).reduce((a, b) => a + b, 0)) / starts;
    const perStartOne = ourMs(cpuOne);
    const perStartTwo = ourMs(cpuTwo);
    return [
      startsResult(3.1, `Start→RUNNING, 1 worker (${starts} starts, ${jobCount} jobs)`, one, bare, {
        min: 0.25,
        text: '≥ 0.25× bare BullMQ add→process→pg update',
        extra: { baseline_p99_ms: bare.p99, ...cpuOne.shares },
      }),
      {
        id: 3.2,
        name: 'Start→RUNNING, 2 workers: lock waits and CPU per start',
        value: round(locksTwo.waitingMs / starts, 3),
        unit: 'ms lock wait/start',
        baseline: round(perStartOne, 2),
        ratio: round(perStartTwo / perStartOne, 2),
        target: 'lock wait/start ≈ 0 (≤ 0.1 ms); CPU/start with 2 workers ≈ 1 worker (ratio ≤ 1.15)',
        met: locksTwo.waitingMs / starts <= 0.1 && perStartTwo / perStartOne <= 1.15,
        extra: {
          starts_per_s: round(two.throughput, 1),
          p50_ms: two.p50,
          p99_ms: two.p99,
          cpu_ms_per_start_2_workers: round(perStartTwo, 2),
          lock_wait_ms_per_start_1_worker: round(locksOne.waitingMs / starts, 3),
          lock_samples: locksTwo.samples,
          ...cpuTwo.shares,
        },
      },
      {
        id: 3.3,
        name: 'CPU per start, 1 worker: API + worker + PostgreSQL + Redis',
        value: round(perStartOne, 2),
        unit: 'ms/start',
        baseline: round(bareMs, 2),
        ratio: round(perStartOne / bareMs, 1),
        target: '≤ 3 ms',
        met: perStartOne <= 3,
        extra: {
          machine_ms_per_start_without_double_and_data_processor: round(machineMs(cpuOne), 2),
          api_ms: round((1000 * (cpuOne.seconds.api ?? 0)) / starts, 2),
          worker_ms: round((1000 * (cpuOne.seconds.worker1 ?? 0)) / starts, 2),
          postgres_ms: round((1000 * (cpuOne.seconds.postgres ?? 0)) / starts, 2),
          redis_ms: round((1000 * (cpuOne.seconds.redis ?? 0)) / starts, 2),
          // The bench's own queries (its waiter, the lock sampler) are in these counts too.
          commits_per_start: round(oneCommits.commits / starts, 1),
          wal_bytes_per_start: Math.round(oneCommits.walBytes / starts),
          rows_written_per_start: writesPer(oneCommits, starts),
          bare_machine_ms_per_op: round((1000 * bareCpu.machineSeconds) / starts, 2),
          bare_postgres_ms_per_op: round((1000 * (bareCpu.seconds.postgres ?? 0)) / starts, 2),
          bare_commits_per_op: round(bareCommits.commits / starts, 1),
          bare_wal_bytes_per_op: Math.round(bareCommits.walBytes / starts),
        },
      },
    ];
  } finally {
    await stack.stop();
  }
};
