import { describeEvent, eventMessage } from './event';
import { PermanentFailure, TransientFailure } from '../shared/errors';
import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import type { DeliveryTarget, WebhookRepository } from './webhook-repository';
import type { DeliveryQueue, WebhookResponse, WebhookSender } from './webhook-sender';
import { failureText } from '../shared/failure-text';

export interface DeliverySettings {
  /** How long a delivery is retried, and how long a webhook may fail before it is disabled. */
  retryWindowMs: number;
}

/** What an attempt came to; one to be tried again throws instead (TransientFailure). */
export type DeliveryOutcome = 'delivered' | 'failed' | 'skipped';

const isSuccess = (status: number) => status >= 200 && status < 300;

/** The exact body a webhook receives, in its format. */
export function webhookBody(target: DeliveryTarget): string {
  if (target.webhook.format === 'slack') return JSON.stringify({ text: describeEvent(target.event) });
  return JSON.stringify(eventMessage(target.event));
}

/**
 * One attempt of one delivery. A failure is recorded, then thrown as transient so the queue
 * tries again with backoff; past the retry window the delivery is FAILED, and a webhook
 * failing for longer than the window is disabled, saying why.
 */
export class DeliverWebhook {
  constructor(
    private readonly deps: {
      webhooks: WebhookRepository;
      sender: WebhookSender;
      clock: Clock;
      log: Logger;
      settings: DeliverySettings;
    },
  ) {}

  async run(deliveryId: string): Promise<DeliveryOutcome> {
    const { webhooks, sender, clock } = this.deps;
    const target = await webhooks.target(deliveryId);
    if (!target || target.delivery.status !== 'PENDING') return 'skipped';
    if (!target.webhook.enabled) {
      await webhooks.recordFailure(
        deliveryId,
        { statusCode: null, durationMs: 0, error: 'The webhook is disabled.', at: clock.now() },
        true,
      );
      return 'failed';
    }
    let response: WebhookResponse | null = null;
    let error: unknown = null;
    const started = clock.now().getTime();
    try {
      response = await sender.send({
        url: target.webhook.url,
        body: webhookBody(target),
        event: target.event,
        secret: target.webhook.secret,
      });
    } catch (caught) {
      error = caught;
    }
    const at = clock.now();
    if (response && isSuccess(response.statusCode)) {
      await webhooks.recordSuccess(deliveryId, {
        statusCode: response.statusCode,
        durationMs: response.durationMs,
        error: null,
        at,
      });
      return 'delivered';
    }
    const reason = response ? `The receiver answered HTTP ${response.statusCode}.` : failureText(error);
    const windowMs = this.deps.settings.retryWindowMs;
    const final = error instanceof PermanentFailure || at.getTime() - target.delivery.createdAt.getTime() >= windowMs;
    await webhooks.recordFailure(
      deliveryId,
      {
        statusCode: response?.statusCode ?? null,
        durationMs: response?.durationMs ?? at.getTime() - started,
        error: reason,
        at,
      },
      final,
    );
    const failingSince = target.webhook.failingSince ?? at;
    if (at.getTime() - failingSince.getTime() >= windowMs) {
      const hours = Math.round((windowMs / 3600_000) * 10) / 10;
      const why = `Disabled at ${at.toISOString()}: every delivery failed for ${hours} h (since ${failingSince.toISOString()}); last error: ${reason}`;
      await webhooks.disable(target.webhook.id, why);
      this.deps.log.warn({ webhookId: target.webhook.id, reason }, 'webhook disabled after failing too long');
      return 'failed';
    }
    if (final) return 'failed';
    throw new TransientFailure(reason);
  }
}

/**
 * Sends again the deliveries still PENDING a while after they were made: their message may
 * have gone with Redis. Each goes under its delivery's id, so one still queued is left alone.
 */
export class ResendPendingDeliveries {
  constructor(
    private readonly webhooks: WebhookRepository,
    private readonly queue: DeliveryQueue,
    private readonly clock: Clock,
  ) {}

  async run(olderThanMs: number, limit = 1000): Promise<number> {
    const ids = await this.webhooks.pendingDeliveries(new Date(this.clock.now().getTime() - olderThanMs), limit);
    if (ids.length > 0) await this.queue.enqueue(ids);
    return ids.length;
  }
}
