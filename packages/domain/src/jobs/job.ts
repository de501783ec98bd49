import type { RestartPolicy } from '../executions/restart-policy';
import type { SavepointRetention } from '../savepoints/savepoint';
import type { Schedule } from '../schedules/schedule';

/** Values become Flink program arguments, so only scalars are allowed. */
export type ProgramConfig = Record<string, string | number | boolean>;

/**
 * `slots`: a submission waits (QUEUED) until the cluster has the slots its parallelism
 * needs; `ignore`: it goes to Flink whatever the cluster's slots.
 */
export const ADMISSION_MODES = ['slots', 'ignore'] as const;
export type AdmissionMode = (typeof ADMISSION_MODES)[number];

export interface NewJob {
  name: string;
  /** As the user gave it: an absolute http(s) URL or a bare file name on the data-processor. */
  jarUrl: string;
  /** Null: Flink uses the JAR manifest's main class. */
  entryClass: string | null;
  config: ProgramConfig;
  parallelism: number | null;
  enabled: boolean;
  /** The name of the Flink cluster it runs on. */
  cluster: string;
  admission: AdmissionMode;
  /** Omitted: the default policy (never restart). */
  restartPolicy?: RestartPolicy;
  /** How long its savepoints are kept; null or omitted: the service's defaults. */
  savepointRetention?: SavepointRetention | null;
}

export interface Job extends Omit<NewJob, 'restartPolicy' | 'savepointRetention'> {
  id: string;
  /** With every default filled in. */
  restartPolicy: RestartPolicy;
  savepointRetention: SavepointRetention | null;
  schedule: Schedule | null;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export type JobChanges = Partial<NewJob>;

/**
 * Program arguments from a job's config: `["--key", "value", ...]`, keys sorted so the
 * same config always yields the same argument list.
 */
export function programArgsFrom(config: ProgramConfig): string[] {
  return Object.keys(config)
    .sort()
    .flatMap((key) => [`--${key}`, String(config[key])]);
}

/** A bare file name resolves against the data-processor's base URL. */
export function resolveJarUrl(jarUrl: string, dataProcessorUrl: string): string {
  if (/^https?:\/\//i.test(jarUrl)) return jarUrl;
  return new URL(encodeURIComponent(jarUrl), dataProcessorUrl.replace(/\/?$/, '/')).toString();
}
