// 8: what following RUNNING executions costs, now that one observer per cluster reads one
// `GET /jobs/overview` per poll (ARCHITECTURE.md, "Tracking in O(clusters)").
import { randomUUID } from 'node:crypto';
import {
  cpuShares,
  processStats,
  round,
  sql,
  startProcess,
  type Benchmark,
  type BenchContext,
  type BenchResult,
} from '../lib';
import { serviceEnv, startWorker, type Running } from './services';

const POLL_MS = 1000;
/** `slotsEvery` of the observer: `GET /overview` every fifth tick. */
const SLOTS_EVERY = 5;
const CPU_TARGET_PCT = 10;

/** Per-execution polling, measured before the change on this kind of machine (issue 14); not this run. */
const BEFORE: Record<number, string> = {
  100: 'per-execution polling, measured before (issue 14), POLL_INTERVAL_MS 2000: 49.5 calls/s, worker 6.9 % CPU',
  1000: 'per-execution polling, measured before (issue 14), POLL_INTERVAL_MS 2000: 499 calls/s, worker 24.9 % CPU',
};

interface Case {
  id: number;
  executions: number;
  clusters: number;
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^(\w+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)) labels[key as string] = value as string;
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return samples;
}

async function scrape(worker: { metricsUrl: string }): Promise<Sample[]> {
  return parseMetrics(await (await fetch(worker.metricsUrl)).text());
}

const sum = (samples: Sample[], name: string, where: (l: Record<string, string>) => boolean = () => true) =>
  samples.filter((s) => s.name === name && where(s.labels)).reduce((a, s) => a + s.value, 0);

async function post<T>(url: string, body: unknown): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new Error(`${url}: ${res.status} ${answer.error}`);
  return answer;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** Nearest-rank percentile of sorted values. */
const percentile = (sorted: number[], p: number) => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? NaN;

async function measure(
  ctx: BenchContext,
  c: Case,
  windows: { windowS: number; bareWindowS: number },
  changes: number,
): Promise<BenchResult> {
  const { windowS, bareWindowS } = windows;
  const names = Array.from({ length: c.clusters }, (_, i) => (i === 0 ? 'default' : `bench-track-${i + 1}`));
  ctx.log(`8: ${c.executions} RUNNING executions on ${c.clusters} cluster(s), ${windowS} s window`);
  const started: Running[] = [];
  const executionIds: string[][] = names.map(() => []);
  const jobIds: string[] = [];
  try {
    // Every double in one process of its own; slots enough that no cluster looks full.
    const flink = await startProcess(
      'flink-double',
      ['--conditions=source', '--require', 'tsx/cjs', 'bench/flink-double-server.ts'],
      { DOUBLE_COUNT: String(c.clusters), DOUBLE_SLOTS: '100000', DOUBLE_CONTROL: '1' },
      /CONTROL_URL=/,
    );
    started.push(flink);
    const urls = [...flink.output().matchAll(/FLINK_URL=(\S+)/g)].map((m) => m[1] as string);
    const control = /CONTROL_URL=(\S+)/.exec(flink.output())?.[1] as string;

    // N executions as a submission leaves them, round robin over the clusters: the jobs on the
    // doubles first, then one statement for the jobs and executions in PostgreSQL.
    const rows = { execution: [] as string[], job: [] as string[], name: [] as string[], cluster: [] as string[] };
    for (let i = 0; i < c.executions; i++) {
      const execution = randomUUID();
      const job = randomUUID();
      executionIds[i % c.clusters]?.push(execution);
      jobIds.push(job);
      rows.execution.push(execution);
      rows.job.push(job);
      rows.name.push(`bench-track-${ctx.prefix}-${c.id}-${i}`);
      rows.cluster.push(names[i % c.clusters] as string);
    }
    for (const [index, ids] of executionIds.entries()) {
      const jobs = ids.map((id, i) => ({ jobId: id.replace(/-/g, ''), name: `bench-track-${index}-${i}` }));
      await post(`${control}/jobs`, { double: index, jobs });
    }
    for (const [index, name] of names.entries()) {
      if (index === 0) continue; // `default` is FLINK_JOBMANAGER_URL's: the worker writes its URL
      await sql(ctx, `INSERT INTO clusters (name, url) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET url = $2`, [
        name,
        urls[index],
      ]);
    }
    await sql(
      ctx,
      `WITH input AS (SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[]) AS t(execution_id, job_id, name, cluster)),
            new_jobs AS (INSERT INTO jobs (id, name, jar_url, cluster) SELECT job_id, name, 'bench.jar', cluster FROM input)
       INSERT INTO job_executions (id, job_id, cluster, trigger, status, flink_state, flink_job_id, jar_url, config,
                                   job_version, attempt, submitting_at, run_requested_at, submitted_at, started_at)
       SELECT execution_id, job_id, cluster, 'manual', 'RUNNING', 'RUNNING', replace(execution_id::text, '-', ''),
              'bench.jar', '{}'::jsonb, 1, 1, now(), now(), now(), now()
         FROM input`,
      [rows.execution, rows.job, rows.name, rows.cluster],
    );

    const worker = await startWorker({
      ...serviceEnv(ctx, 'info'),
      FLINK_JOBMANAGER_URL: urls[0] as string,
      DATA_PROCESSOR_URL: 'http://127.0.0.1:9', // no submissions here
      POLL_INTERVAL_MS: String(POLL_MS),
      METRICS_PORT: '0',
      MIGRATE_ON_START: 'false',
    });
    started.push(worker);

    // Warm: every cluster observed with all its executions, its first slot reads behind it.
    const deadline = Date.now() + 120_000;
    for (;;) {
      const samples = await scrape(worker);
      const ready = names.every(
        (name, i) => sum(samples, 'cluster_observed_executions', (l) => l.cluster === name) === executionIds[i]?.length,
      );
      if (ready) break;
      if (Date.now() > deadline) throw new Error(`not every cluster observed: ${worker.output().slice(-2000)}`);
      await sleep(250);
    }
    await sleep(2 * POLL_MS + 500);

    // The window: `changes` jobs finish on Flink, one at a random moment of each of `changes` equal
    // slots (at fixed moments they would fall at one phase of the poll and bias the latency); the
    // double answers when it changed.
    const shares = cpuShares({ flink_double: flink.child.pid as number });
    const before = await scrape(worker);
    const cpu0 = processStats(worker.child.pid as number).cpuSeconds;
    const t0 = Date.now();
    const changed: { id: string; at: number }[] = [];
    for (let i = 0; i < changes; i++) {
      await sleep(t0 + ((i + Math.random()) * windowS * 1000) / changes - Date.now());
      const cluster = i % c.clusters;
      const id = executionIds[cluster]?.[Math.floor(i / c.clusters)] as string;
      const { at } = await post<{ at: number }>(`${control}/state`, {
        double: cluster,
        jobId: id.replace(/-/g, ''),
        state: 'FINISHED',
      });
      changed.push({ id, at });
    }
    await sleep(t0 + windowS * 1000 - Date.now());
    const after = await scrape(worker);
    const cpu1 = processStats(worker.child.pid as number).cpuSeconds;
    const elapsed = (Date.now() - t0) / 1000;
    const machine = shares();
    const workerRss = processStats(worker.child.pid as number).rssMiB;

    // When PostgreSQL showed each change: the observer's finished_at (or the row's update, if later).
    const ids = changed.map((x) => x.id);
    let ended: { id: string; status: string; shown_ms: number }[] = [];
    for (const until = Date.now() + 10 * POLL_MS + 5000; ; await sleep(250)) {
      ended = await sql<{ id: string; status: string; shown_ms: number }>(
        ctx,
        `SELECT id, status, extract(epoch from greatest(finished_at, updated_at)) * 1000 AS shown_ms
           FROM job_executions WHERE id = ANY($1::uuid[]) AND status <> 'RUNNING'`,
        [ids],
      );
      if (ended.length === ids.length || Date.now() > until) break;
    }
    const latencies = ended
      .filter((row) => row.status === 'FINISHED')
      .map((row) => Number(row.shown_ms) - (changed.find((x) => x.id === row.id)?.at ?? NaN))
      .sort((a, b) => a - b);

    // The same run's floor: a bare observer (bench/baselines/bare-observer.js) on the same
    // doubles and rows, alone, for its own window.
    await worker.stop();
    const bare = await startProcess(
      'bare-observer',
      ['bench/baselines/bare-observer.js'],
      {
        DATABASE_URL: ctx.databaseUrl,
        POLL_INTERVAL_MS: String(POLL_MS),
        CLUSTERS: names.map((name, i) => `${name}=${urls[i]}`).join(','),
      },
      'bare observer ready',
    );
    started.push(bare);
    await sleep(POLL_MS);
    const bare0 = processStats(bare.child.pid as number).cpuSeconds;
    const bareT0 = Date.now();
    await sleep(bareWindowS * 1000);
    const bareCpu =
      (100 * (processStats(bare.child.pid as number).cpuSeconds - bare0)) / ((Date.now() - bareT0) / 1000);
    await bare.stop();

    const calls = (samples: Sample[], endpoint?: string) =>
      sum(samples, 'flink_api_calls_total', (l) => endpoint === undefined || l.endpoint === endpoint);
    const endpoints = [
      ...new Set(after.filter((s) => s.name === 'flink_api_calls_total').map((s) => s.labels.endpoint)),
    ];
    const perEndpoint = Object.fromEntries(
      endpoints.map((e) => [`calls_${e}`, calls(after, e) - calls(before, e)] as const).filter(([, n]) => n > 0),
    );
    const callsPerSecond = (calls(after) - calls(before)) / elapsed;
    const ticks =
      sum(after, 'cluster_observation_duration_seconds_count') -
      sum(before, 'cluster_observation_duration_seconds_count');
    const tickSeconds =
      sum(after, 'cluster_observation_duration_seconds_sum') - sum(before, 'cluster_observation_duration_seconds_sum');
    const workerCpu = (100 * (cpu1 - cpu0)) / elapsed;
    const p50 = percentile(latencies, 0.5);
    const p99 = percentile(latencies, 0.99);
    // One job list per cluster per poll, `GET /overview` every fifth, at most one more per end
    // (the tick that records an end reads the slots), and one tick per cluster of slack at each
    // edge of the window. A FINISHED job needs no /exceptions; none is missing, so no /status.
    const bound = c.clusters * (1000 / POLL_MS) * (1 + 1 / SLOTS_EVERY) + (changes + 2 * c.clusters) / elapsed;
    const recorded = latencies.length;
    const latencyMax = 2 * POLL_MS;
    const met = callsPerSecond <= bound && workerCpu <= CPU_TARGET_PCT && recorded === changes && p99 <= latencyMax;
    const beforeFigures = BEFORE[c.executions];
    return {
      id: c.id,
      name:
        `Tracking: ${c.executions.toLocaleString('en-US')} RUNNING executions on ${c.clusters} cluster` +
        `${c.clusters > 1 ? 's' : ''}, 1 worker, POLL_INTERVAL_MS ${POLL_MS}`,
      value: round(callsPerSecond),
      unit: 'Flink calls/s',
      baseline: null,
      ratio: null,
      target:
        `calls/s ≤ ${c.clusters}×${round(1000 / POLL_MS)}×1.2 + (${changes} ends + ${2 * c.clusters} edge ticks)/` +
        `${round(elapsed, 1)} s = ${round(bound)}; worker CPU ≤ ${CPU_TARGET_PCT} %; change → record p99 ≤ ${latencyMax} ms`,
      met,
      extra: {
        worker_cpu_pct: round(workerCpu, 1),
        bare_observer_cpu_pct: round(bareCpu, 1),
        latency_p50_ms: round(p50, 0),
        latency_p99_ms: round(p99, 0),
        ends_recorded: `${recorded}/${changes}`,
        ...perEndpoint,
        ticks,
        tick_mean_ms: ticks > 0 ? round((1000 * tickSeconds) / ticks, 1) : 0,
        worker_rss_mib: round(workerRss, 0),
        ...machine,
        ...(beforeFigures ? { before: beforeFigures } : {}),
      },
    };
  } finally {
    await Promise.all(started.map((p) => p.stop()));
    if (jobIds.length) await sql(ctx, `DELETE FROM jobs WHERE id = ANY($1::uuid[])`, [jobIds]);
    await sql(ctx, `DELETE FROM clusters WHERE name LIKE 'bench-track-%'`);
  }
}

export const trackingBenchmark: Benchmark = async (ctx) => {
  const windows = { windowS: ctx.quick ? 6 : 20, bareWindowS: ctx.quick ? 3 : 10 };
  const changes = ctx.quick ? 10 : 20;
  const cases: Case[] = ctx.quick
    ? [
        { id: 8.1, executions: 100, clusters: 1 },
        { id: 8.2, executions: 1000, clusters: 1 },
        { id: 8.4, executions: 1000, clusters: 4 },
      ]
    : [
        { id: 8.1, executions: 100, clusters: 1 },
        { id: 8.2, executions: 1000, clusters: 1 },
        { id: 8.3, executions: 10_000, clusters: 1 },
        { id: 8.4, executions: 10_000, clusters: 4 },
      ];
  // Executions other suites left active belong to doubles that are gone: the observer would chase them.
  await sql(
    ctx,
    `UPDATE job_executions SET status = 'CANCELLED', finished_at = now(), updated_at = now()
      WHERE status IN ('QUEUED', 'SUBMITTING', 'RUNNING', 'STOPPING')`,
  );
  const results: BenchResult[] = [];
  for (const c of cases) results.push(await measure(ctx, c, windows, changes));
  return results;
};
