import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import IORedis from 'ioredis';
import { GiveUp, sleep, waitFor } from '../../support/wait';

/**
 * A port that was free a moment ago. Redis and PostgreSQL cannot be told to bind port 0
 * and report it, so whoever binds one of these later may lose it to another process in
 * between: the servers below retry on another port when that happens.
 */
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

  /**
   * Starts on a free port the first time; a restart keeps the port (the clients know it),
   * retrying while another process holds it.
   */
  async start(): Promise<this> {
    const keepPort = this.port !== 0;
    for (let attempt = 1; ; attempt++) {
      if (!keepPort) this.port = await freePort();
      if (await this.startOnce()) return this;
      if (attempt >= 5) throw new Error(`redis-server could not bind 127.0.0.1:${this.port} (${attempt} tries)`);
      await sleep(keepPort ? 500 : 0); // a retry's backoff: the other holder of the port may let go
    }
  }

  /** False when redis-server exited at once (its port was taken). */
  private async startOnce(): Promise<boolean> {
    this.url = `redis://127.0.0.1:${this.port}`;
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    this.child = child;
    try {
      await waitFor('redis to answer', async () => {
        if (child.exitCode !== null) throw new GiveUp(`redis-server exited ${child.exitCode}`);
        const probe = new IORedis(this.url, {
          lazyConnect: true,
          maxRetriesPerRequest: 0,
          retryStrategy: () => null,
          // Something else may hold the port and never answer.
          connectTimeout: 1000,
          commandTimeout: 1000,
        });
        probe.on('error', () => undefined);
        try {
          await probe.connect();
          return (await probe.ping()) === 'PONG' && child.exitCode === null;
        } finally {
          probe.disconnect();
        }
      });
      return true;
    } catch (error) {
      if (error instanceof GiveUp) return false;
      throw error;
    }
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
    this.dir = mkdtempSync(path.join(tmpdir(), 'fo-faults-pg-'));
    chmodSync(this.dir, 0o777);
    const data = path.join(this.dir, 'data');
    this.run([`${PG_BIN}/initdb`, '-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
    // pg_ctl -w fails when the server cannot bind: another process took the port meanwhile.
    for (let attempt = 1; ; attempt++) {
      this.port = await freePort();
      try {
        this.up();
        return this;
      } catch (error) {
        if (attempt >= 5) throw error;
      }
    }
  }

  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /** Starts the server and returns once it accepts connections (`pg_ctl -w`). */
  up(): void {
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

  /** Stops the server and returns once it is down. */
  down(): void {
    this.run([`${PG_BIN}/pg_ctl`, '-D', path.join(this.dir, 'data'), '-m', 'fast', '-w', 'stop']);
  }

  destroy(): void {
    try {
      this.down();
    } catch {
      // already down
    }
    // `pg_ctl -w stop` returned once the server was gone: nothing writes to the directory.
    rmSync(this.dir, { recursive: true, force: true });
  }
}
