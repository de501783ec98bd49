/**
 * Messages between the API and the workers. Workers switch on `kind` exhaustively, so
 * a new message kind is a compile error until every consumer handles it.
 */
export type WorkMessage =
  | { kind: 'submit'; executionId: string }
  | { kind: 'stop'; executionId: string; requestedAt: number }
  /** Take the savepoint recorded IN_PROGRESS under this id. */
  | { kind: 'savepoint'; savepointId: string }
  /** Have Flink dispose of the savepoint whose disposal was asked for at `requestedAt`. */
  | { kind: 'dispose'; savepointId: string; requestedAt: number }
  /** Carry the upgrade on from the step its row names. */
  | { kind: 'upgrade'; upgradeId: string }
  /** Check the job on its cluster before its tick at `scheduledFor` (epoch ms). */
  | { kind: 'preflight'; jobId: string; scheduledFor: number };

export interface EnqueueOptions {
  delayMs?: number;
  /**
   * The message's subject is new (an execution just inserted), so no earlier message can
   * share its id: the queue skips looking for a failed or completed one to send again.
   */
  fresh?: boolean;
}

export interface WorkQueue {
  /**
   * Idempotent: one message of a kind per execution (and stop request) is ever
   * pending, so re-enqueueing during reconciliation is harmless.
   */
  enqueue(message: WorkMessage, options?: EnqueueOptions): Promise<void>;
}
