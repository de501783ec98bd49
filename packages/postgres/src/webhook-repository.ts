import type {
  AttemptResult,
  DeliveryStatus,
  DeliveryTarget,
  NewWebhook,
  PageRequest,
  Webhook,
  WebhookChanges,
  WebhookDelivery,
  WebhookFormat,
  WebhookRepository,
} from '@flink-orchestrator/domain';
import type { Knex } from 'knex';
import { audited } from './audit-log';
import { guarded } from './connection-errors';
import { toEvent, WEBHOOK_WANTS_EVENT, type EventRow } from './event-store';
import { keysetPage } from './keyset-pages';

interface WebhookRow {
  id: string;
  url: string;
  events: string[];
  job_id: string | null;
  format: WebhookFormat;
  secret: string | null;
  enabled: boolean;
  disabled_reason: string | null;
  failing_since: Date | null;
  created_at: Date;
  updated_at: Date;
}

interface DeliveryRow {
  id: string;
  webhook_id: string;
  event_id: string;
  event_type: string;
  status: DeliveryStatus;
  attempts: number;
  status_code: number | null;
  duration_ms: number | null;
  last_error: string | null;
  created_at: Date;
  last_attempt_at: Date | null;
  delivered_at: Date | null;
}

const toWebhook = (row: WebhookRow): Webhook => ({
  id: row.id,
  url: row.url,
  events: row.events,
  jobId: row.job_id,
  format: row.format,
  enabled: row.enabled,
  hasSecret: row.secret !== null,
  disabledReason: row.disabled_reason,
  failingSince: row.failing_since,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const toDelivery = (row: DeliveryRow): WebhookDelivery => ({
  id: row.id,
  webhookId: row.webhook_id,
  eventId: String(row.event_id),
  eventType: row.event_type,
  status: row.status,
  attempts: row.attempts,
  statusCode: row.status_code,
  durationMs: row.duration_ms,
  lastError: row.last_error,
  createdAt: row.created_at,
  lastAttemptAt: row.last_attempt_at,
  deliveredAt: row.delivered_at,
});

function toColumns(webhook: WebhookChanges): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  if (webhook.url !== undefined) row.url = webhook.url;
  if (webhook.events !== undefined) row.events = webhook.events;
  if (webhook.jobId !== undefined) row.job_id = webhook.jobId;
  if (webhook.format !== undefined) row.format = webhook.format;
  if (webhook.secret !== undefined) row.secret = webhook.secret;
  if (webhook.enabled !== undefined) row.enabled = webhook.enabled;
  // Enabled again by hand: a fresh start, not still "failing since" last week.
  if (webhook.enabled === true) Object.assign(row, { disabled_reason: null, failing_since: null });
  return row;
}

const attemptColumns = (db: Knex, result: AttemptResult) => ({
  attempts: db.raw('attempts + 1'),
  status_code: result.statusCode,
  duration_ms: Math.round(result.durationMs),
  last_error: result.error,
  last_attempt_at: result.at,
});

/** A delivery joined with its webhook and its event. */
type TargetRow = DeliveryRow & {
  e_tx: string;
  e_occurred_at: Date;
  e_job_id: string | null;
  e_execution_id: string | null;
  e_payload: Record<string, unknown>;
  w_url: string;
  w_format: WebhookFormat;
  w_secret: string | null;
  w_enabled: boolean;
  w_failing_since: Date | null;
};

export class KnexWebhookRepository implements WebhookRepository {
  constructor(private readonly db: Knex) {}

  create(webhook: NewWebhook): Promise<Webhook> {
    return guarded(() =>
      audited(
        this.db,
        async (db) =>
          toWebhook((await db<WebhookRow>('webhooks').insert(toColumns(webhook)).returning('*'))[0] as WebhookRow),
        (created) => ({ id: created.id }),
      ),
    );
  }

  get(id: string): Promise<Webhook | null> {
    return guarded(async () => {
      const row = await this.db<WebhookRow>('webhooks').where({ id }).first();
      return row ? toWebhook(row) : null;
    });
  }

  list(page: PageRequest): Promise<Webhook[]> {
    return guarded(async () => (await keysetPage(this.db<WebhookRow>('webhooks'), page, 'asc')).map(toWebhook));
  }

  update(id: string, changes: WebhookChanges): Promise<Webhook | null> {
    return guarded(() =>
      audited(this.db, async (db) => {
        const [row] = await db<WebhookRow>('webhooks')
          .where({ id })
          .update({ ...toColumns(changes), updated_at: db.fn.now() })
          .returning('*');
        return row ? toWebhook(row) : null;
      }),
    );
  }

  delete(id: string): Promise<boolean> {
    return guarded(() => audited(this.db, async (db) => (await db('webhooks').where({ id }).delete()) > 0));
  }

  deliveries(webhookId: string, page: PageRequest): Promise<WebhookDelivery[]> {
    return guarded(async () => {
      const query = this.db('webhook_deliveries')
        .select('*', this.db.raw('(SELECT type FROM events WHERE events.id = event_id) AS event_type'))
        .where({ webhook_id: webhookId });
      return ((await keysetPage(query, page, 'desc')) as DeliveryRow[]).map(toDelivery);
    });
  }

  planDeliveries(eventId: string): Promise<string[]> {
    return guarded(async () => {
      // The outer SELECT reads the snapshot before the insert: new rows come from `made`.
      const { rows } = await this.db.raw<{ rows: { id: string }[] }>(
        `WITH made AS (
           INSERT INTO webhook_deliveries (webhook_id, event_id)
           SELECT w.id, e.id FROM events e JOIN webhooks w ON ${WEBHOOK_WANTS_EVENT} WHERE e.id = ?
           ON CONFLICT (webhook_id, event_id) DO NOTHING
           RETURNING id)
         SELECT id FROM made
         UNION ALL
         SELECT id FROM webhook_deliveries WHERE event_id = ? AND status = 'PENDING'`,
        [eventId, eventId],
      );
      return rows.map((r) => r.id);
    });
  }

  pendingDeliveries(before: Date, limit: number): Promise<string[]> {
    return guarded(async () => {
      const rows = await this.db('webhook_deliveries')
        .where('status', 'PENDING')
        .andWhere('created_at', '<', before)
        .orderBy('created_at')
        .limit(limit)
        .select('id');
      return rows.map((r: { id: string }) => r.id);
    });
  }

  target(deliveryId: string): Promise<DeliveryTarget | null> {
    return guarded(async () => {
      const row: TargetRow | undefined = await this.db('webhook_deliveries as d')
        .join('webhooks as w', 'w.id', 'd.webhook_id')
        .join('events as e', 'e.id', 'd.event_id')
        .where('d.id', deliveryId)
        .first(
          'd.*',
          'e.type as event_type',
          'e.tx as e_tx',
          'e.occurred_at as e_occurred_at',
          'e.job_id as e_job_id',
          'e.execution_id as e_execution_id',
          'e.payload as e_payload',
          'w.url as w_url',
          'w.format as w_format',
          'w.secret as w_secret',
          'w.enabled as w_enabled',
          'w.failing_since as w_failing_since',
        );
      if (!row) return null;
      const event: EventRow = {
        id: row.event_id,
        tx: row.e_tx,
        type: row.event_type,
        occurred_at: row.e_occurred_at,
        job_id: row.e_job_id,
        execution_id: row.e_execution_id,
        payload: row.e_payload,
      };
      return {
        delivery: toDelivery(row),
        webhook: {
          id: row.webhook_id,
          url: row.w_url,
          format: row.w_format,
          secret: row.w_secret,
          enabled: row.w_enabled,
          failingSince: row.w_failing_since,
        },
        event: toEvent(event),
      };
    });
  }

  recordSuccess(deliveryId: string, result: AttemptResult): Promise<void> {
    return guarded(async () => {
      const done = this.db('webhook_deliveries')
        .where({ id: deliveryId, status: 'PENDING' })
        .update({ ...attemptColumns(this.db, result), status: 'DELIVERED', delivered_at: result.at })
        .returning('webhook_id');
      await this.db
        .with('done', done)
        .table('webhooks')
        .whereIn('id', this.db.select('webhook_id').from('done'))
        .whereNotNull('failing_since')
        .update({ failing_since: null });
    });
  }

  recordFailure(deliveryId: string, result: AttemptResult, final: boolean): Promise<void> {
    return guarded(async () => {
      const tried = this.db('webhook_deliveries')
        .where({ id: deliveryId, status: 'PENDING' })
        .update({ ...attemptColumns(this.db, result), status: final ? 'FAILED' : 'PENDING' })
        .returning('webhook_id');
      await this.db
        .with('tried', tried)
        .table('webhooks')
        .whereIn('id', this.db.select('webhook_id').from('tried'))
        .where('enabled', true)
        .whereNull('failing_since')
        .update({ failing_since: result.at });
    });
  }

  disable(webhookId: string, reason: string): Promise<void> {
    return guarded(async () => {
      const disabled = this.db('webhooks')
        .where({ id: webhookId, enabled: true })
        .update({ enabled: false, disabled_reason: reason, updated_at: this.db.fn.now() })
        .returning('id');
      await this.db
        .with('disabled', disabled)
        .table('webhook_deliveries')
        .whereIn('webhook_id', this.db.select('id').from('disabled'))
        .where('status', 'PENDING')
        .update({ status: 'FAILED', last_error: 'The webhook was disabled.' });
    });
  }
}
