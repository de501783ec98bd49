import type { EventCursor, OrchestratorEvent } from './event';

export interface EventFeedQuery {
  after?: EventCursor;
  /** Types or patterns; any of them matches. */
  types?: string[];
  jobId?: string;
  limit: number;
}

/** The events, oldest first, as far as every transaction before them has ended: a cursor never steps past one. */
export interface EventFeed {
  read(query: EventFeedQuery): Promise<OrchestratorEvent[]>;
}

/** An event waiting for the relay; `wanted`: an enabled webhook subscribes to it. */
export interface PendingEvent {
  event: OrchestratorEvent;
  wanted: boolean;
}

/** The relay's side of the outbox table. */
export interface EventOutbox {
  /**
   * Oldest first: events not yet handed over, and those handed over more than `resendAfterMs`
   * ago whose fan-out has not marked them done (their message lost with Redis).
   */
  pending(limit: number, resendAfterMs: number): Promise<PendingEvent[]>;
  /** On the queue, waiting for their fan-out. */
  markRelayed(ids: readonly string[]): Promise<void>;
  /** Nothing more to do: fanned out to their deliveries, or wanted by no webhook. */
  markPublished(ids: readonly string[]): Promise<void>;
  /** Events not yet done (a backlog that grows means no relay runs). */
  countPending(): Promise<number>;
  /** Deletes published events older than `before`, at most `limit`; returns how many. */
  prune(before: Date, limit: number): Promise<number>;
}

/** Hands events to the fan-out, each under its own id: the same event twice is one message. */
export interface EventBus {
  publish(events: readonly OrchestratorEvent[]): Promise<void>;
}
