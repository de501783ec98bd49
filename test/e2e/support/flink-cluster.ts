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

/**
 * The Flink versions to prove against: FLINK_E2E_VERSIONS (comma-separated), else both
 * lines named in the repository's .env (the 1.x LTS and the newest 2.x).
 */
export function e2eVersions(): string[] {
  const fromEnv = (process.env.FLINK_E2E_VERSIONS ?? '').split(',').filter(Boolean);
  if (fromEnv.length) return fromEnv;
  const dotenv = readFileSync(path.resolve(__dirname, '../../../.env'), 'utf8');
  const value = (key: string) => new RegExp(`^${key}=(\\S+)`, 'm').exec(dotenv)?.[1];
  return [value('FLINK_VERSION'), value('FLINK_VERSION_LATEST')].filter((v): v is string => Boolean(v));
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
export async function startFlink(
  version: string,
): Promise<FlinkCluster & { stop(): Promise<void>; restartJobManager(wipeJars: boolean): Promise<void> }> {
  const args = ['start', '--version', version];
  const { stdout } = await run('bash', [SCRIPT, ...args], { maxBuffer: 10 * 1024 * 1024, timeout: 15 * 60_000 });
  const cluster = parse(stdout);
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
  };
}
