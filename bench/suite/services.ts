import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildTestJar } from '@flink-orchestrator/flink-test-double';
import { ROOT, startProcess, type BenchContext } from '../lib';

export const TOKEN = 'bench-token-0123456789abcdef';

export type Running = Awaited<ReturnType<typeof startProcess>>;

/** What every process of ours gets: the bench's database and key prefix, its token, production mode. */
export function serviceEnv(ctx: BenchContext, logLevel: string): Record<string, string> {
  return {
    DATABASE_URL: ctx.databaseUrl,
    REDIS_URL: ctx.redisUrl,
    QUEUE_PREFIX: ctx.prefix,
    LOG_LEVEL: logLevel,
    API_TOKENS: `bench=${TOKEN}`,
    NODE_ENV: 'production',
  };
}

/** Our API as built, on `port`. */
export function startApi(env: Record<string, string>, port: number): Promise<Running> {
  return startProcess('api', ['packages/api/dist/main.js'], { ...env, PORT: String(port) }, 'api listening');
}

/** Flink double, data-processor and the API, each its own process, as in a deployment. */
export async function startStack(ctx: BenchContext, options: { apiPort: number; jarClass: string }) {
  const jarDir = path.join(ROOT, 'bench', 'tmp', 'jars');
  mkdirSync(jarDir, { recursive: true });
  writeFileSync(path.join(jarDir, 'bench.jar'), buildTestJar(options.jarClass, 64 * 1024));
  const flink = await startProcess(
    'flink-double',
    ['--conditions=source', '--require', 'tsx/cjs', 'bench/flink-double-server.ts'],
    // Slots enough that admission always admits: with the double's default 64, 200 loops
    // would measure the wait for slots (backoff up to 30 s), not what a start costs.
    { DOUBLE_SLOTS: '100000' },
    /FLINK_URL=/,
  );
  const flinkUrl = /FLINK_URL=(\S+)/.exec(flink.output())?.[1] as string;
  const data = await startProcess('data-processor', ['scripts/serve-jars.js', jarDir, '0'], {}, /DATA_PROCESSOR_URL=/);
  const dataUrl = /DATA_PROCESSOR_URL=(\S+)/.exec(data.output())?.[1] as string;
  const env = {
    ...serviceEnv(ctx, 'warn'),
    FLINK_JOBMANAGER_URL: flinkUrl,
    DATA_PROCESSOR_URL: dataUrl,
    POLL_INTERVAL_MS: '250',
    WORKER_CONCURRENCY: '20',
    METRICS_PORT: '0',
    MIGRATE_ON_START: 'false',
  };
  const api = await startApi({ ...env, LOG_LEVEL: 'info' }, options.apiPort);
  const workers: (Running & { metricsUrl: string })[] = [];
  return {
    env,
    flink,
    data,
    flinkUrl,
    dataUrl,
    api,
    workers,
    apiUrl: `http://127.0.0.1:${options.apiPort}`,
    async addWorker(extra: Record<string, string> = {}) {
      const running = await startWorker({ ...env, LOG_LEVEL: 'info', ...extra });
      workers.push(running);
      return running;
    },
    async stopWorkers() {
      await Promise.all(workers.splice(0).map((w) => w.stop()));
    },
    async stop() {
      await Promise.all([...workers.splice(0), api, flink, data].map((p) => p.stop()));
    },
  };
}

/** A worker as built (`env` needs LOG_LEVEL info or lower), with the URL of its /metrics. */
export async function startWorker(env: Record<string, string>): Promise<Running & { metricsUrl: string }> {
  const worker = await startProcess('worker', ['packages/worker/dist/main.js'], env, 'worker started');
  // Read now: the log is kept only in part, and this line comes first.
  const port = Number(/"port":(\d+),"msg":"worker metrics listening"/.exec(worker.output())?.[1]);
  return Object.assign(worker, { metricsUrl: `http://127.0.0.1:${port}/metrics` });
}

/** One call to our API with the bench token; `T` is the answer's JSON as the caller expects it. */
export async function call<T = unknown>(
  url: string,
  method: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}
