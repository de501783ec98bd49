import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { Client, Pool } from 'pg';

export const ROOT = path.resolve(__dirname, '..');

export interface BenchResult {
  id: number;
  name: string;
  value: number;
  unit: string;
  baseline: number | null;
  ratio: number | null;
  target: string | null;
  met: boolean | null;
  /** Figures beside the headline (percentiles, counts), shown in the table's notes column. */
  extra?: Record<string, number | string>;
}

export interface BenchContext {
  quick: boolean;
  databaseUrl: string;
  redisUrl: string;
  prefix: string;
  log(message: string): void;
}

export type Benchmark = (ctx: BenchContext) => Promise<BenchResult[]>;

/** A Node process of ours or a baseline, waiting until it prints `ready`. */
export async function startProcess(
  name: string,
  args: string[],
  env: Record<string, string>,
  ready: string | RegExp,
): Promise<{ child: ChildProcess; output: () => string; stop: () => Promise<void> }> {
  // BENCH_CPU_PROF=<dir> profiles every process a benchmark starts (see bench/README.md).
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const child = spawn(process.execPath, [...profile, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const onData = (d: Buffer) => {
    output += d.toString();
    if (output.length > 1_000_000) output = output.slice(-500_000);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const deadline = Date.now() + 30_000;
  while (!(typeof ready === 'string' ? output.includes(ready) : ready.test(output))) {
    if (child.exitCode !== null) throw new Error(`${name} exited: ${output.slice(-2000)}`);
    if (Date.now() > deadline) throw new Error(`${name} not ready: ${output.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    child,
    output: () => output,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      }),
  };
}

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

export async function load(options: autocannon.Options): Promise<LoadResult> {
  const result = await autocannon(options);
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

/** Resident set size and CPU time (user+system, seconds) of a process, from /proc. */
export function processStats(pid: number): { rssMiB: number; cpuSeconds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { rssMiB: rssKiB / 1024, cpuSeconds: cpuSecondsOf(readFileSync(`/proc/${pid}/stat`, 'utf8')) };
}

/** utime + stime from a /proc/<pid>/stat line (fields after the command name, which may hold spaces). */
function cpuSecondsOf(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

export function ratioResult(
  id: number,
  name: string,
  value: number,
  baseline: number,
  unit: string,
  target: { min?: number; max?: number; text: string },
  extra?: BenchResult['extra'],
): BenchResult {
  const ratio = baseline > 0 ? value / baseline : 0;
  const met = (target.min === undefined || ratio >= target.min) && (target.max === undefined || ratio <= target.max);
  return {
    id,
    name,
    value: round(value),
    unit,
    baseline: round(baseline),
    ratio: round(ratio, 3),
    target: target.text,
    met,
    ...(extra ? { extra } : {}),
  };
}

/** One query on a connection of its own: benchmarks set up and read back with it. */
export async function sql<T = Record<string, unknown>>(
  ctx: BenchContext,
  text: string,
  values: unknown[] = [],
): Promise<T[]> {
  const db = new Client({ connectionString: ctx.databaseUrl });
  await db.connect();
  try {
    return (await db.query(text, values)).rows as T[];
  } finally {
    await db.end();
  }
}

/**
 * How busy the whole machine was (all cores, 0–100 %) between the call and the returned
 * function's call: when it is near 100 %, more processes cannot go faster.
 */
function machineBusy(): () => number {
  const sample = () => {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
    const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0); // idle + iowait
    return { idle, total: cpu.reduce((a, b) => a + b, 0) };
  };
  const before = sample();
  return () => {
    const after = sample();
    const total = after.total - before.total;
    return total > 0 ? round((100 * (total - (after.idle - before.idle))) / total, 1) : 0;
  };
}

/** CPU seconds used so far by each process whose command name is `command` (all PostgreSQL backends, say), by pid. */
function commandCpuSeconds(command: string): Map<string, number> {
  const seconds = new Map<string, number>();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) === command) seconds.set(pid, cpuSecondsOf(stat));
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return seconds;
}

/**
 * CPU seconds the processes of `after` used since `before`: all of it for one started since;
 * nothing for one that ended meanwhile (its last seconds are lost, but a short-lived backend
 * no longer makes the sum negative).
 */
function cpuSince(before: Map<string, number>, after: Map<string, number>): number {
  let seconds = 0;
  for (const [pid, cpu] of after) seconds += cpu - (before.get(pid) ?? 0);
  return seconds;
}

/**
 * Where the machine's CPU went between the call and the returned function's call, in %
 * of one core: each of our processes by name, PostgreSQL and Redis, and the machine's
 * busy % over all cores. It tells what bounds a benchmark that misses its target.
 */
export function cpuShares(pids: Record<string, number>): () => Record<string, number> {
  const meter = cpuMeter(pids);
  return () => meter().shares;
}

/**
 * The same as `cpuShares`, with the CPU seconds each used beside the shares: what a
 * benchmark divides by its operations for the CPU one operation costs.
 */
export function cpuMeter(
  pids: Record<string, number>,
): () => { shares: Record<string, number>; seconds: Record<string, number>; machineSeconds: number } {
  const started = Date.now();
  const machine = machineBusy();
  const read = () => ({
    processes: Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, processStats(pid).cpuSeconds])),
    commands: { postgres: commandCpuSeconds('postgres'), redis: commandCpuSeconds('redis-server') },
  });
  const before = read();
  return () => {
    const after = read();
    const wall = (Date.now() - started) / 1000;
    const busy = machine();
    const seconds: Record<string, number> = {
      ...Object.fromEntries(
        Object.entries(after.processes).map(([name, cpu]) => [name, cpu - (before.processes[name] ?? 0)]),
      ),
      postgres: cpuSince(before.commands.postgres, after.commands.postgres),
      redis: cpuSince(before.commands.redis, after.commands.redis),
    };
    const shares = Object.fromEntries(
      Object.entries(seconds).map(([name, cpu]) => [`${name}_cpu_pct`, round((100 * cpu) / wall, 0)]),
    );
    return {
      shares: { machine_busy_pct: busy, ...shares },
      seconds,
      machineSeconds: (busy / 100) * os.cpus().length * wall,
    };
  };
}

/**
 * Transactions committed in the bench database from the call to the returned function's:
 * each costs PostgreSQL a WAL flush, so it is the unit a start's database cost comes in.
 */
export interface Writes {
  commits: number;
  walBytes: number;
  writes: { table: string; ins: number; upd: number; hot: number }[];
}

export async function pgWrites(
  databaseUrl: string,
  ownQueries: () => number = () => 0,
): Promise<() => Promise<Writes>> {
  const db = new Pool({ connectionString: databaseUrl, max: 1 });
  db.on('error', () => undefined);
  const read = async () => {
    const { rows } = await db.query<{ n: string }>(
      'SELECT xact_commit AS n FROM pg_stat_database WHERE datname = current_database()',
    );
    return Number(rows[0]?.n ?? 0);
  };
  const wal = async () =>
    (await db.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]?.lsn ?? '0/0';
  const tables = async () => {
    const { rows } = await db.query<{ relname: string; ins: string; upd: string; hot: string }>(
      'SELECT relname, n_tup_ins AS ins, n_tup_upd AS upd, n_tup_hot_upd AS hot FROM pg_stat_user_tables',
    );
    return new Map(rows.map((r) => [r.relname, [Number(r.ins), Number(r.upd), Number(r.hot)] as const]));
  };
  const before = await read();
  const tablesBefore = await tables();
  const walBefore = await wal();
  const ownBefore = ownQueries();
  return async () => {
    const walAfter = await wal();
    const own = ownQueries() - ownBefore + 4; // and the reads here
    // Backends publish their counts at most once a second, and an idle one within 10 s.
    await new Promise((r) => setTimeout(r, 11_000));
    const after = await read();
    const { rows } = await db.query<{ bytes: string }>('SELECT pg_wal_lsn_diff($1, $2)::bigint AS bytes', [
      walAfter,
      walBefore,
    ]);
    // Rows written per table: what the WAL volume is made of (an update that is not HOT
    // writes a new entry into every index of its table).
    const writes = [...(await tables())]
      .map(([table, [ins, upd, hot]]) => {
        const [i0, u0, h0] = tablesBefore.get(table) ?? [0, 0, 0];
        return { table, ins: ins - i0, upd: upd - u0, hot: hot - h0 };
      })
      .filter((w) => w.ins + w.upd > 0)
      .sort((a, b) => b.ins + b.upd - (a.ins + a.upd));
    await db.end();
    return { commits: after - before - own, walBytes: Number(rows[0]?.bytes ?? 0), writes };
  };
}

/** The tables written most, per operation: `table 1 ins + 3 upd (0 HOT)`, comma-separated. */
export function writesPer(writes: Writes, operations: number, top = 6): string {
  return writes.writes
    .slice(0, top)
    .map(
      (w) =>
        `${w.table} ${round(w.ins / operations, 1)} ins + ${round(w.upd / operations, 1)} upd (${round(w.hot / operations, 1)} HOT)`,
    )
    .join(', ');
}
