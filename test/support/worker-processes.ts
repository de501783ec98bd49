import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import { testEnv } from './test-env';

const ROOT = path.resolve(__dirname, '../..');
const LOG_DIR = path.join(ROOT, 'test-artifacts', 'logs');

/** Every process a test started and that has not exited: one left running still reads the queues. */
const live = new Set<ServiceProcess>();

/** The processes still running, by name (a test that forgot one is named by it). */
export function runningServices(): string[] {
  return [...live].map((p) => p.name);
}

/** A real process of ours (worker or API) run from source, as `npm run start:*` would run it built. */
export class ServiceProcess {
  private child: ChildProcess | null = null;
  exitCode: number | null = null;
  output = '';
  /** Characters logged since the start, including those trimmed off `output`: a mark for `loggedSince`. */
  logged = 0;

  constructor(
    readonly name: string,
    private readonly entry: 'worker' | 'api',
    private readonly env: Record<string, string>,
  ) {}

  start(): this {
    mkdirSync(LOG_DIR, { recursive: true });
    const log = createWriteStream(path.join(LOG_DIR, `${this.name}.log`), { flags: 'a' });
    this.exitCode = null;
    this.child = spawn(
      process.execPath,
      ['--conditions=source', '--require', 'tsx/cjs', `packages/${this.entry}/src/main.ts`],
      {
        cwd: ROOT,
        env: { ...process.env, ...this.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    for (const stream of [this.child.stdout, this.child.stderr]) {
      stream?.on('data', (data: Buffer) => {
        const text = data.toString();
        this.output += text;
        this.logged += text.length;
        if (this.output.length > 2_000_000) this.output = this.output.slice(-1_000_000);
        log.write(data);
      });
    }
    live.add(this);
    this.child.on('exit', (code, signal) => {
      live.delete(this);
      this.exitCode = code ?? (signal ? 128 : 1);
      log.end();
    });
    return this;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== null && this.exitCode === null;
  }

  /** What the process logged after `mark` (a value of `logged`), as far as `output` still holds it. */
  loggedSince(mark: number): string {
    return this.output.slice(Math.max(0, this.output.length - (this.logged - mark)));
  }

  /** Waits until a log line contains `text`. */
  async waitForLog(text: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.output.includes(text)) {
      if (!this.running)
        throw new Error(
          `${this.name} exited (${this.exitCode}) before logging "${text}":\n${this.output.slice(-3000)}`,
        );
      if (Date.now() > deadline)
        throw new Error(`${this.name} did not log "${text}" in ${timeoutMs} ms:\n${this.output.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    const child = this.child;
    if (!child || this.exitCode !== null) return Promise.resolve(this.exitCode);
    return new Promise((resolve) => {
      child.once('exit', () => resolve(this.exitCode));
      child.kill(signal);
    });
  }
}

export interface WorkerSettings {
  flinkUrl: string;
  dataProcessorUrl?: string;
  env?: Record<string, string>;
}

/** Worker processes tuned for tests: fast polling, short locks so a killed worker's work moves on quickly. */
export async function startWorkers(
  count: number,
  settings: WorkerSettings,
  label = 'worker',
): Promise<ServiceProcess[]> {
  const workers = Array.from({ length: count }, (_, i) =>
    new ServiceProcess(`${label}-${i + 1}`, 'worker', workerEnv(settings)).start(),
  );
  await Promise.all(workers.map((w) => w.waitForLog('worker started')));
  return workers;
}

export function workerEnv(settings: WorkerSettings): Record<string, string> {
  return testEnv({
    LOG_LEVEL: 'info',
    FLINK_JOBMANAGER_URL: settings.flinkUrl,
    DATA_PROCESSOR_URL: settings.dataProcessorUrl ?? 'http://127.0.0.1:9',
    POLL_INTERVAL_MS: '200',
    LOST_GRACE_MS: '1000',
    LOCK_DURATION_MS: '3000',
    WORKER_CONCURRENCY: '10',
    SHUTDOWN_TIMEOUT_MS: '5000',
    METRICS_PORT: '0',
    // Tests count the requests each start makes (ETag checks, uploads after a Flink restart);
    // the JAR reuse that skips them in a burst has its own tests, which set it.
    JAR_REUSE_MS: '0',
    ...settings.env,
  });
}

export async function stopAll(processes: ServiceProcess[]): Promise<void> {
  await Promise.all(processes.map((p) => p.kill('SIGTERM')));
}
