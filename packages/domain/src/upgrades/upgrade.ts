import type { ProgramConfig } from '../jobs/job';

/**
 * `savepoint`: the running execution stops with a savepoint and the new definition starts
 * from it; `cancel`: it is cancelled and the new definition starts without state.
 */
export const UPGRADE_MODES = ['savepoint', 'cancel'] as const;
export type UpgradeMode = (typeof UPGRADE_MODES)[number];

export type UpgradeStatus = 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';

/**
 * Where an upgrade is: checking the new definition on Flink (nothing stopped yet), stopping
 * the old execution, starting the new one, waiting for it to run, done.
 */
export const UPGRADE_STEPS = ['validating', 'stopping', 'starting', 'confirming', 'done'] as const;
export type UpgradeStep = (typeof UPGRADE_STEPS)[number];

/** The definition fields an upgrade may change. */
export interface UpgradeChanges {
  jarUrl?: string;
  entryClass?: string | null;
  config?: ProgramConfig;
  parallelism?: number | null;
}

/** One line of an upgrade's log: what was done, when. */
export interface UpgradeLogEntry {
  step: UpgradeStep | 'failed';
  at: Date;
  detail: string;
}

export interface Upgrade {
  id: string;
  jobId: string;
  mode: UpgradeMode;
  changes: UpgradeChanges;
  allowNonRestoredState: boolean;
  status: UpgradeStatus;
  step: UpgradeStep;
  steps: UpgradeLogEntry[];
  /** The execution it stops; null for an upgrade of a job with nothing running. */
  fromExecutionId: string | null;
  /** The execution it started. */
  toExecutionId: string | null;
  /** The savepoint the old execution stopped with, which the new one restores from. */
  savepointId: string | null;
  savepointLocation: string | null;
  /** When the stop was asked for: a RUNNING old execution after that means the stop failed. */
  stopRequestedAt: Date | null;
  jobVersionBefore: number;
  jobVersionAfter: number | null;
  errorMessage: string | null;
  /** On failure: what to do now, in words and with the request to send. */
  recovery: string | null;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

/** True when the job already holds every change (an upgrade's own update, seen again after a crash). */
export function holdsChanges(
  job: { jarUrl: string; entryClass: string | null; config: ProgramConfig; parallelism: number | null },
  changes: UpgradeChanges,
): boolean {
  return (
    (changes.jarUrl === undefined || changes.jarUrl === job.jarUrl) &&
    (changes.entryClass === undefined || changes.entryClass === job.entryClass) &&
    (changes.parallelism === undefined || changes.parallelism === job.parallelism) &&
    (changes.config === undefined || sameConfig(changes.config, job.config))
  );
}

/** The job's definition as the upgrade would leave it: the changes over the job as it is. */
export function withChanges<
  T extends { jarUrl: string; entryClass: string | null; config: ProgramConfig; parallelism: number | null },
>(job: T, changes: UpgradeChanges): T {
  return {
    ...job,
    jarUrl: changes.jarUrl ?? job.jarUrl,
    entryClass: changes.entryClass === undefined ? job.entryClass : changes.entryClass,
    config: changes.config ?? job.config,
    parallelism: changes.parallelism === undefined ? job.parallelism : changes.parallelism,
  };
}

function sameConfig(a: ProgramConfig, b: ProgramConfig): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}
