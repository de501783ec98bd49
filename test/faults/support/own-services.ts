import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import IORedis from 'ioredis';
import { sleep, waitFor } from '../../support/wait';

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * A Redis server of the fault suite's own, so it can be stopped and flushed without
 * touching the machine's shared Redis.
 */
export class OwnRedis {
  private child: ChildProcess | null = null;
  url = '';
  constructor(private port = 0) {}

  async start(): Promise<this> {
    if (!this.port) this.port = await freePort();
    this.url = `redis://127.0.0.1:${this.port}`;
    this.child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    await waitFor('redis to answer', async () => {
      const probe = new IORedis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => undefined);
      try {
        await probe.connect();
        return (await probe.ping()) === 'PONG';
      } finally {
        probe.disconnect();
      }
    });
    return this;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    await new Promise((resolve) => {
      child.once('exit', resolve);
      child.kill('SIGKILL');
    });
  }

  async flushAll(): Promise<void> {
    const redis = new IORedis(this.url);
    await redis.flushall();
    redis.disconnect();
  }
}

const PG_BIN = '/usr/lib/postgresql/15/bin';

/** A PostgreSQL cluster of the fault suite's own (initdb in a temp dir, run as the postgres user). */
export class OwnPostgres {
  private dir = '';
  port = 0;

  private run(args: string[]): void {
    execFileSync('runuser', ['-u', 'postgres', '--', ...args], { stdio: 'ignore' });
  }

  async start(): Promise<this> {
    this.port = await freePort();
    this.dir = mkdtempSync(path.join(tmpdir(), 'fo-faults-pg-'));
    chmodSync(this.dir, 0o777);
    const data = path.join(this.dir, 'data');
    this.run([`${PG_BIN}/initdb`, '-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
    await this.up();
    return this;
  }

  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  async up(): Promise<void> {
    this.run([
      `${PG_BIN}/pg_ctl`,
      '-D',
      path.join(this.dir, 'data'),
      '-l',
      path.join(this.dir, 'log'),
      '-w',
      '-o',
      `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      'start',
    ]);
  }

  async down(): Promise<void> {
    this.run([`${PG_BIN}/pg_ctl`, '-D', path.join(this.dir, 'data'), '-m', 'fast', '-w', 'stop']);
  }

  async destroy(): Promise<void> {
    try {
      await this.down();
    } catch {
      // already down
    }
    await sleep(100);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
