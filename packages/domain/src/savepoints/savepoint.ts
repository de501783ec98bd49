/** Why a savepoint was taken. */
export const SAVEPOINT_KINDS = ['stop', 'manual', 'periodic', 'upgrade'] as const;
export type SavepointKind = (typeof SAVEPOINT_KINDS)[number];

export type SavepointState = 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';

/** A disposal asked of Flink (`POST /savepoint-disposal`), until Flink confirms it. */
export interface SavepointDisposal {
  requestedAt: Date;
  /** Flink's id for the disposal operation, once it took it. */
  triggerId: string | null;
}

/** A savepoint the orchestrator had Flink take, and what became of its files. */
export interface Savepoint {
  id: string;
  jobId: string;
  /** The execution whose Flink job it saved; null once that execution was pruned. */
  executionId: string | null;
  cluster: string;
  kind: SavepointKind;
  status: SavepointState;
  /** The id the Flink operation runs under: the same request, the same operation. */
  triggerId: string | null;
  location: string | null;
  errorMessage: string | null;
  createdAt: Date;
  completedAt: Date | null;
  /** A disposal asked for and not yet confirmed; null again when Flink's disposal failed. */
  disposal: SavepointDisposal | null;
  /** Why Flink's last disposal failed; asking again retries it. */
  disposalError: string | null;
  /** Set only once Flink reported the disposal done. */
  disposedAt: Date | null;
}

/**
 * Whether a savepoint Flink lists was taken for a record created at `createdAt`: triggered
 * after it, with a minute allowed for the clocks of Flink and the orchestrator to differ.
 */
export function takenSince(listed: { triggeredAt: Date }, createdAt: Date): boolean {
  return listed.triggeredAt.getTime() >= createdAt.getTime() - 60_000;
}

/** Usable to restore from: completed, its files neither gone nor going. */
export function isRestorable(savepoint: Savepoint): boolean {
  return (
    savepoint.status === 'COMPLETED' && savepoint.location !== null && !savepoint.disposal && !savepoint.disposedAt
  );
}

/** How long a job's completed savepoints are kept: `keepLast` newest, none older than `maxAgeDays`. */
export interface SavepointRetention {
  keepLast: number;
  maxAgeDays: number;
}

/**
 * The savepoints retention disposes of, among one job's restorable ones: those beyond the
 * `keepLast` newest, and those older than `maxAgeDays`; never the newest one, nor one in
 * `inUse` (restored from by an active execution).
 */
export function savepointsToDispose(
  restorable: readonly Savepoint[],
  retention: SavepointRetention,
  inUse: ReadonlySet<string>,
  now: Date,
): Savepoint[] {
  const newestFirst = [...restorable].sort(
    (a, b) => (b.completedAt ?? b.createdAt).getTime() - (a.completedAt ?? a.createdAt).getTime(),
  );
  const oldest = now.getTime() - retention.maxAgeDays * 86_400_000;
  return newestFirst.filter(
    (s, index) =>
      index > 0 &&
      !inUse.has(s.id) &&
      !(s.location && inUse.has(s.location)) &&
      (index >= retention.keepLast || (s.completedAt ?? s.createdAt).getTime() < oldest),
  );
}
