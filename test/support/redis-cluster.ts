import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from './wait';

const run = promisify(execFile);

/** True when nothing listens on the port (a cluster node also needs port + 10000 for its bus). */
function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function freeNodePorts(count: number): Promise<number[]> {
  for (let tries = 0; tries < 50; tries++) {
    const base = 20_000 + Math.floor(Math.random() * 9_000);
    const ports = Array.from({ length: count }, (_, i) => base + i);
    const free = await Promise.all(ports.flatMap((p) => [isFree(p), isFree(p + 10_000)]));
    if (free.every(Boolean)) return ports;
  }
  throw new Error('no free ports for a Redis Cluster');
}

/**
 * A Redis Cluster of `masters` nodes on loopback ports (no replicas), from the machine's
 * `redis-server` and `redis-cli`, in a temporary directory removed on `stop`.
 */
export class LocalRedisCluster {
  private readonly nodes: ChildProcess[] = [];
  private dir = '';
  ports: number[] = [];

  constructor(private readonly masters = 3) {}

  /** `host:port,...`, as REDIS_CLUSTER_NODES takes it. */
  get seedList(): string {
    return this.ports.map((p) => `127.0.0.1:${p}`).join(',');
  }

  async start(): Promise<this> {
    this.dir = await mkdtemp(join(tmpdir(), 'fo-redis-cluster-'));
    this.ports = await freeNodePorts(this.masters);
    for (const port of this.ports) {
      const node = spawn(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--dir',
          this.dir,
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          `nodes-${port}.conf`,
          '--cluster-node-timeout',
          '5000',
          '--save',
          '',
          '--appendonly',
          'no',
        ],
        { stdio: 'ignore' },
      );
      this.nodes.push(node);
    }
    for (const port of this.ports) {
      await waitFor(
        `redis node ${port} to answer`,
        () =>
          this.cli(port, 'ping').then(
            (out) => out === 'PONG' || undefined,
            () => undefined,
          ),
        10_000,
      );
    }
    await run('redis-cli', [
      '--cluster',
      'create',
      ...this.ports.map((p) => `127.0.0.1:${p}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    for (const port of this.ports) {
      await waitFor(
        `redis node ${port} to see the cluster ok`,
        async () => (await this.cli(port, 'cluster', 'info')).includes('cluster_state:ok') || undefined,
        20_000,
      );
    }
    return this;
  }

  /** How many keys each node holds: a cluster in use spreads or concentrates them by hash slot. */
  async keysPerNode(): Promise<number[]> {
    return Promise.all(this.ports.map(async (p) => Number(await this.cli(p, 'dbsize'))));
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.nodes.map(
        (node) =>
          new Promise<void>((resolve) => {
            if (node.exitCode !== null) return resolve();
            node.once('exit', () => resolve());
            node.kill('SIGKILL');
          }),
      ),
    );
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }

  private async cli(port: number, ...args: string[]): Promise<string> {
    const { stdout } = await run('redis-cli', ['-p', String(port), ...args]);
    return stdout.trim();
  }
}
