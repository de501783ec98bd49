import {
  eventMessage,
  redactWebhookUrl,
  type OrchestratorEvent,
  type Webhook,
  type WebhookDelivery,
} from '@flink-orchestrator/domain';
import { iso } from '../shared/views';

/**
 * A webhook; its secret is never shown, only whether there is one. Its URL may hold a
 * credential too (Slack's do): whole only to `access` that may write, else its host.
 */
export function webhookView(webhook: Webhook, access: 'read' | 'write' = 'write') {
  return {
    id: webhook.id,
    url: access === 'write' ? webhook.url : redactWebhookUrl(webhook.url),
    events: webhook.events,
    jobId: webhook.jobId,
    format: webhook.format,
    enabled: webhook.enabled,
    hasSecret: webhook.hasSecret,
    disabledReason: webhook.disabledReason,
    failingSince: iso(webhook.failingSince),
    createdAt: webhook.createdAt.toISOString(),
    updatedAt: webhook.updatedAt.toISOString(),
  };
}

export function deliveryView(delivery: WebhookDelivery) {
  return {
    id: delivery.id,
    eventId: delivery.eventId,
    eventType: delivery.eventType,
    status: delivery.status,
    attempts: delivery.attempts,
    statusCode: delivery.statusCode,
    durationMs: delivery.durationMs,
    lastError: delivery.lastError,
    createdAt: delivery.createdAt.toISOString(),
    lastAttemptAt: iso(delivery.lastAttemptAt),
    deliveredAt: iso(delivery.deliveredAt),
  };
}

/** Opaque to clients: base64url of the event's (transaction, id). */
export const encodeEventCursor = (event: OrchestratorEvent) =>
  Buffer.from(JSON.stringify([event.cursor.tx, event.cursor.id])).toString('base64url');

/** An event of the feed: what a webhook receives, and where to continue from. */
export function eventView(event: OrchestratorEvent) {
  return { ...eventMessage(event), cursor: encodeEventCursor(event) };
}
