// `npm run bench [-- --quick] [-- --only 1,2]`: runs the benchmarks, prints one table, writes bench/results.json.
import { execSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrateToLatest } from '@flink-orchestrator/postgres';
import IORedis from 'ioredis';
import { Client } from 'pg';
import { ROOT, type Benchmark, type BenchContext, type BenchResult } from './lib';
import { apiBenchmarks } from './suite/api';
import { historyBenchmark } from './suite/history';
import { jarStreamingBenchmark } from './suite/jar-streaming';
import { schedulesAndIdleBenchmark } from './suite/schedules-and-idle';
import { startPipelineBenchmark } from './suite/start-pipeline';
import { trackingBenchmark } from './suite/tracking';

const SUITES: { ids: number[]; run: Benchmark }[] = [
  { ids: [1, 2], run: apiBenchmarks },
  { ids: [3], run: startPipelineBenchmark },
  { ids: [4, 7], run: schedulesAndIdleBenchmark },
  { ids: [5], run: jarStreamingBenchmark },
  { ids: [6], run: historyBenchmark },
  { ids: [8], run: trackingBenchmark },
];

const ADMIN_URL = process.env.BENCH_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DATABASE = 'flink_orchestrator_bench';

async function withAdmin(sql: string): Promise<void> {
  const admin = new Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const onlyArg = process.argv[process.argv.indexOf('--only') + 1];
  const only = process.argv.includes('--only') && onlyArg ? onlyArg.split(',').map(Number) : null;
  const url = new URL(ADMIN_URL);
  url.pathname = `/${DATABASE}`;
  const ctx: BenchContext = {
    quick,
    databaseUrl: url.toString(),
    redisUrl: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
    prefix: `fo-bench-${randomBytes(3).toString('hex')}`,
    log: (m) => process.stderr.write(`[bench] ${m}\n`),
  };
  // The bench owns this database and this key prefix, nothing else.
  await withAdmin(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
  await withAdmin(`CREATE DATABASE ${DATABASE}`);
  await migrateToLatest(ctx.databaseUrl, { info: () => undefined });
  const results: BenchResult[] = [];
  const failures: number[][] = [];
  try {
    for (const suite of SUITES) {
      if (only && !suite.ids.some((id) => only.includes(id))) continue;
      try {
        const got = await suite.run(ctx);
        results.push(...got);
        printTable(got);
      } catch (error) {
        // One broken suite must not lose the others' figures; it is reported, and fails the run.
        ctx.log(`benchmarks ${suite.ids.join(', ')} failed: ${error instanceof Error ? error.stack : String(error)}`);
        failures.push(suite.ids);
      }
    }
  } finally {
    await deletePrefix(ctx);
    await withAdmin(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
  }
  results.sort((a, b) => a.id - b.id);
  process.stdout.write('\n');
  printTable(results);
  const commit = execSync('git rev-parse --short HEAD', { cwd: ROOT }).toString().trim();
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.type()} ${os.release()}`,
  };
  const date = new Date().toISOString();
  const file = path.join(ROOT, 'bench', quick ? 'results.quick.json' : 'results.json');
  const fresh = results.map((r) => ({ ...r, date, commit, machine, quick }));
  // With --only, the figures of the benchmarks not run stay as their last run left them (with its date).
  const kept = only && existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as BenchResult[]) : [];
  const merged = [...kept.filter((r) => !fresh.some((f) => Math.floor(f.id) === Math.floor(r.id))), ...fresh];
  merged.sort((a, b) => a.id - b.id);
  writeFileSync(file, `${JSON.stringify(merged, null, 2)}\n`);
  // Missed targets are reported, not fatal; a benchmark that could not run is.
  if (failures.length) process.exitCode = 1;
}

async function deletePrefix(ctx: BenchContext): Promise<void> {
  const redis = new IORedis(ctx.redisUrl);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${ctx.prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.unlink(...keys);
  } while (cursor !== '0');
  redis.disconnect();
}

function printTable(results: BenchResult[]): void {
  const rows = results.map((r) => [
    String(r.id),
    r.name,
    `${r.value} ${r.unit}`,
    r.baseline === null ? '—' : `${r.baseline} ${r.unit}`,
    r.ratio === null ? '—' : `${r.ratio}×`,
    r.target ?? '—',
    r.met === null ? '—' : r.met ? 'yes' : 'NO',
    Object.entries(r.extra ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(' '),
  ]);
  const header = ['#', 'benchmark', 'value', 'baseline', 'ratio', 'target', 'met', 'notes'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  process.stdout.write(`${line(header)}\n${line(widths.map((w) => '-'.repeat(w)))}\n${rows.map(line).join('\n')}\n`);
}

main().then(
  // Exit when done: a handle some client library left open must not hang CI.
  () => process.exit(),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
