import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SCRIPT = path.resolve(__dirname, '../flink/flink-cluster.sh');

export interface FlinkCluster {
  url: string;
  dir: string;
  version: string;
  examples: string;
}

const VERSION = /^\d+\.\d+\.\d+$/;

/**
 * The Flink versions to prove against: FLINK_E2E_VERSIONS (comma-separated), else both
 * lines named in the repository's .env (the 1.x LTS and the newest 2.x). A version missing
 * from .env, or one that is not x.y.z, is an error: the suite must not quietly prove less.
 */
export function e2eVersions(
  env: NodeJS.ProcessEnv = process.env,
  dotenv: () => string = () => readFileSync(path.resolve(__dirname, '../../../.env'), 'utf8'),
): string[] {
  const fromEnv = (env.FLINK_E2E_VERSIONS ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
  const versions =
    fromEnv.length > 0
      ? fromEnv
      : ['FLINK_VERSION', 'FLINK_VERSION_LATEST'].map((key) => {
          const value = new RegExp(`^${key}=(\\S*)`, 'm').exec(dotenv())?.[1];
          if (!value) throw new Error(`.env names no ${key}: the end-to-end suite needs both Flink versions`);
          return value;
        });
  for (const v of versions) if (!VERSION.test(v)) throw new Error(`"${v}" is not a Flink version (x.y.z)`);
  return versions;
}

/** GET /config's flink-version: the cluster that answers must be the version asked for. */
export async function runningVersion(url: string): Promise<string> {
  const res = await fetch(`${url}/config`);
  if (res.status !== 200) throw new Error(`GET ${url}/config answered ${res.status}`);
  const body = (await res.json()) as { 'flink-version'?: unknown };
  return String(body['flink-version']);
}

function parse(stdout: string): FlinkCluster {
  const value = (key: string) => {
    const match = new RegExp(`^${key}=(.*)$`, 'm').exec(stdout);
    if (!match?.[1]) throw new Error(`flink-cluster.sh printed no ${key}:\n${stdout}`);
    return match[1].trim();
  };
  return {
    url: value('FLINK_URL'),
    dir: value('FLINK_DIR'),
    version: value('FLINK_VERSION'),
    examples: value('FLINK_EXAMPLES'),
  };
}

/**
 * A real Flink session cluster (JobManager + TaskManager JVMs from Maven Central jars),
 * started by test/e2e/flink/flink-cluster.sh; FLINK_E2E_URL points at one already running.
 */
export async function startFlink(version: string): Promise<
  FlinkCluster & {
    stop(): Promise<void>;
    restartJobManager(wipeJars: boolean): Promise<void>;
    killTaskManager(): Promise<void>;
    startTaskManager(): Promise<void>;
  }
> {
  const args = ['start', '--version', version];
  const { stdout } = await run('bash', [SCRIPT, ...args], { maxBuffer: 10 * 1024 * 1024, timeout: 15 * 60_000 });
  const cluster = parse(stdout);
  const answering = await runningVersion(cluster.url);
  if (answering !== version) {
    await run('bash', [SCRIPT, 'stop', '--dir', cluster.dir], { timeout: 120_000 });
    throw new Error(`asked for Flink ${version}, but the cluster at ${cluster.url} says it is ${answering}`);
  }
  return {
    ...cluster,
    stop: async () => {
      await run('bash', [SCRIPT, 'stop', '--dir', cluster.dir], { timeout: 120_000 });
    },
    restartJobManager: async (wipeJars: boolean) => {
      await run('bash', [SCRIPT, 'restart-jobmanager', '--dir', cluster.dir, ...(wipeJars ? ['--wipe-jars'] : [])], {
        timeout: 300_000,
      });
    },
    killTaskManager: async () => {
      await run('bash', [SCRIPT, 'kill-taskmanager', '--dir', cluster.dir], { timeout: 60_000 });
    },
    startTaskManager: async () => {
      await run('bash', [SCRIPT, 'start-taskmanager', '--dir', cluster.dir], { timeout: 300_000 });
    },
  };
}
