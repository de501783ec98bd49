import type { OrchestratorEvent } from './event';
import type { NewWebhook, Webhook, WebhookChanges, WebhookDelivery, WebhookFormat } from './webhook';
import type { PageRequest } from '../jobs/job-repository';

/** A delivery with what its attempt needs: where, how, signed with what, and the event. */
export interface DeliveryTarget {
  delivery: WebhookDelivery;
  webhook: {
    id: string;
    url: string;
    format: WebhookFormat;
    secret: string | null;
    enabled: boolean;
    failingSince: Date | null;
  };
  event: OrchestratorEvent;
}

export interface AttemptResult {
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  at: Date;
}

export interface WebhookRepository {
  create(webhook: NewWebhook): Promise<Webhook>;
  get(id: string): Promise<Webhook | null>;
  list(page: PageRequest): Promise<Webhook[]>;
  /** Enabling a webhook again clears why it was disabled and since when it failed. */
  update(id: string, changes: WebhookChanges): Promise<Webhook | null>;
  delete(id: string): Promise<boolean>;
  /** Newest first. */
  deliveries(webhookId: string, page: PageRequest): Promise<WebhookDelivery[]>;

  /**
   * One delivery per enabled webhook the event matches, made once however often this runs
   * (unique per webhook and event). Returns the ids of the event's deliveries still PENDING.
   */
  planDeliveries(eventId: string): Promise<string[]>;
  /** PENDING deliveries created before `before`: their message may be gone with Redis. */
  pendingDeliveries(before: Date, limit: number): Promise<string[]>;
  target(deliveryId: string): Promise<DeliveryTarget | null>;
  /** DELIVERED, and the webhook no longer failing. */
  recordSuccess(deliveryId: string, result: AttemptResult): Promise<void>;
  /** One more failed attempt; the webhook failing since its first failure. `final`: the delivery is FAILED. */
  recordFailure(deliveryId: string, result: AttemptResult, final: boolean): Promise<void>;
  /** Disables the webhook (only if enabled), saying why; its PENDING deliveries are FAILED. */
  disable(webhookId: string, reason: string): Promise<void>;
}
