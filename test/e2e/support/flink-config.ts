import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

export const REPO_ROOT = path.resolve(__dirname, '../../..');
/** Flink's configuration: the one file the compose stack and flink-cluster.sh both run with. */
export const FLINK_CONFIG = path.join(REPO_ROOT, 'flink/config.yaml');
/** Where the file puts Flink's directories: the compose stack's volume, the cluster's own directory locally. */
export const DATA_ROOT = '/flink-data';

/**
 * flink/config.yaml as key → value, as Flink's REST API prints them. Flat keys only (what both
 * Flink lines and the image's entrypoint read alike); a nested key or a key set twice is an error.
 */
export function readFlinkConfig(file = FLINK_CONFIG): Map<string, string> {
  const doc: unknown = parse(readFileSync(file, 'utf8'));
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`${file} is not a mapping`);
  const config = new Map<string, string>();
  for (const [key, value] of Object.entries(doc)) {
    if (value === null || typeof value === 'object') throw new Error(`${file}: ${key} is not a flat key: value`);
    config.set(key, String(value));
  }
  return config;
}

/** The file as flink-cluster.sh writes it for a cluster in `dir`: its directories moved there. */
export function configForCluster(config: Map<string, string>, dir: string): Map<string, string> {
  return new Map([...config].map(([key, value]) => [key, value.split(DATA_ROOT).join(dir)]));
}

/** GET /jobmanager/config: the configuration the running JobManager has, key → value. */
export async function runningConfig(url: string): Promise<Map<string, string>> {
  const res = await fetch(`${url}/jobmanager/config`);
  if (res.status !== 200) throw new Error(`GET ${url}/jobmanager/config answered ${res.status}`);
  const entries = (await res.json()) as { key: string; value: string }[];
  return new Map(entries.map(({ key, value }) => [key, value]));
}
