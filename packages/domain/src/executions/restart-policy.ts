/** What a job's restart policy restores a restart from; each falls back as `restorePointFor` says. */
export const RESTORE_FROM = ['latest-checkpoint', 'latest-savepoint', 'none'] as const;
export type RestoreFrom = (typeof RESTORE_FROM)[number];

/**
 * When an execution that ran on Flink ends FAILED (or LOST, with `onLost`), a new execution
 * (trigger `restart`) replaces it, at most `maxRestarts` times within `withinMinutes`.
 */
export interface RestartPolicy {
  onFailure: 'never' | 'restart';
  /** LOST: Flink forgot the job (a JobManager restarted without HA). */
  onLost: 'never' | 'restart';
  maxRestarts: number;
  withinMinutes: number;
  /** The restart is submitted no sooner than this after the failure. */
  backoffSeconds: number;
  restoreFrom: RestoreFrom;
}

export const DEFAULT_RESTART_POLICY: Readonly<RestartPolicy> = Object.freeze({
  onFailure: 'never',
  onLost: 'never',
  maxRestarts: 3,
  withinMinutes: 60,
  backoffSeconds: 10,
  restoreFrom: 'latest-checkpoint',
});

/** A policy as given, partly or not at all, with the defaults filled in. */
export function restartPolicyOf(given: Partial<RestartPolicy> | null | undefined): RestartPolicy {
  return { ...DEFAULT_RESTART_POLICY, ...(given ?? {}) };
}

/** Whether the policy restarts an execution that ended in `status`. */
export function restartsOn(policy: RestartPolicy, status: string): boolean {
  if (status === 'FAILED') return policy.onFailure === 'restart';
  if (status === 'LOST') return policy.onLost === 'restart';
  return false;
}

/**
 * Where a restart resumes from, as recorded on the failure it replaces: the failed job's
 * latest checkpoint, what the failed execution itself restored from, the job's newest
 * savepoint, or nothing; `reason` says why that one (older records have none).
 */
export interface RestorePoint {
  kind: 'checkpoint' | 'restored' | 'savepoint' | 'none';
  path: string | null;
  /** The savepoint record restored from, when there is one. */
  savepointId?: string;
  reason?: string;
}

/** What was decided about a failed execution: the restart it got, or why none. */
export type RestartDecision =
  | { decision: 'restarted'; executionId: string; restoreFrom: RestorePoint; decidedAt: Date }
  | { decision: 'exhausted' | 'skipped'; reason: string; decidedAt: Date };
