import type {
  EventFeed,
  EventFeedQuery,
  EventOutbox,
  OrchestratorEvent,
  PendingEvent,
} from '@flink-orchestrator/domain';
import type { Knex } from 'knex';
import { guarded } from './connection-errors';

export interface EventRow {
  id: string;
  tx: string;
  type: string;
  occurred_at: Date;
  job_id: string | null;
  execution_id: string | null;
  payload: Record<string, unknown>;
}

export const toEvent = (row: EventRow): OrchestratorEvent => ({
  id: String(row.id),
  cursor: { tx: String(row.tx), id: String(row.id) },
  type: row.type,
  occurredAt: row.occurred_at,
  jobId: row.job_id,
  executionId: row.execution_id,
  payload: row.payload,
});

/**
 * Whether webhook `w` wants event `e`: its job filter, and any of its patterns (`*`, a type,
 * or `group.*`). One SQL function (migration 20261207000400), so the relay, the fan-out and
 * the trigger that writes an unwanted event already published agree.
 */
export const WEBHOOK_WANTS_EVENT = 'webhook_wants(w, e.type, e.job_id)';

/** The outbox: the feed readers follow and the relay's worklist. */
export class KnexEventStore implements EventFeed, EventOutbox {
  constructor(private readonly db: Knex) {}

  read(query: EventFeedQuery): Promise<OrchestratorEvent[]> {
    return guarded(async () => {
      // Only transactions older than every running one: none can still add an event before the cursor.
      // A held event (its execution's message not yet on the queue) is not told until released.
      const q = this.db<EventRow>('events')
        .whereRaw('tx < pg_snapshot_xmin(pg_current_snapshot())')
        .andWhere('held', false)
        .orderBy([
          { column: 'tx', order: 'asc' },
          { column: 'id', order: 'asc' },
        ])
        .limit(query.limit);
      if (query.after) q.andWhereRaw('(tx, id) > (?::xid8, ?::bigint)', [query.after.tx, query.after.id]);
      if (query.jobId) q.andWhere('job_id', query.jobId);
      if (query.types?.length) {
        const types = query.types;
        q.andWhere((or) => {
          for (const pattern of types) {
            if (pattern === '*') or.orWhereRaw('true');
            else if (pattern.endsWith('.*')) or.orWhereRaw('starts_with(type, ?)', [pattern.slice(0, -1)]);
            else or.orWhere('type', pattern);
          }
        });
      }
      return (await q).map(toEvent);
    });
  }

  pending(limit: number, resendAfterMs: number): Promise<PendingEvent[]> {
    return guarded(async () => {
      const { rows } = await this.db.raw<{ rows: (EventRow & { wanted: boolean })[] }>(
        `SELECT e.*, EXISTS (SELECT 1 FROM webhooks w WHERE ${WEBHOOK_WANTS_EVENT}) AS wanted
           FROM events e
          WHERE e.published_at IS NULL AND NOT e.held
            AND (e.relayed_at IS NULL OR e.relayed_at < clock_timestamp() - make_interval(secs => ?))
          ORDER BY e.id
          LIMIT ?`,
        [resendAfterMs / 1000, limit],
      );
      return rows.map((row) => ({ event: toEvent(row), wanted: row.wanted }));
    });
  }

  markRelayed(ids: readonly string[]): Promise<void> {
    return guarded(async () => {
      await this.db('events')
        .whereIn('id', ids)
        .update({ relayed_at: this.db.raw('clock_timestamp()') });
    });
  }

  markPublished(ids: readonly string[]): Promise<void> {
    return guarded(async () => {
      await this.db('events')
        .whereIn('id', ids)
        .whereNull('published_at')
        .update({ published_at: this.db.raw('clock_timestamp()') });
    });
  }

  countPending(): Promise<number> {
    return guarded(async () => {
      const row = await this.db('events')
        .whereNull('published_at')
        .andWhere('held', false)
        .count<{ count: string }[]>('* as count')
        .first();
      return Number(row?.count ?? 0);
    });
  }

  prune(before: Date, limit: number): Promise<number> {
    return guarded(async () => {
      const { rowCount } = await this.db.raw<{ rowCount: number }>(
        `DELETE FROM events WHERE id IN (
           SELECT id FROM events WHERE published_at IS NOT NULL AND occurred_at < ? ORDER BY id LIMIT ?)`,
        [before, limit],
      );
      return rowCount;
    });
  }
}
