import type { OrchestratorEvent } from '../event';
import type { EventBus, EventOutbox } from '../ports/event-outbox';
import type { WebhookRepository } from '../ports/webhook-repository';
import type { DeliveryQueue } from '../ports/webhook-sender';

export interface RelaySettings {
  batchSize: number;
  /** A relayed event not fanned out after this long is sent again (its message lost with Redis). */
  resendAfterMs: number;
  /** Told of each event handed to the fan-out (metrics by type). */
  observe?: (event: OrchestratorEvent) => void;
}

/**
 * Moves committed events from the outbox to the queue. Marked after the publish, so a
 * crash in between sends the event again, under the same message id: the queue keeps one.
 * An event no webhook wants is stored already published (the outbox decides as it writes it)
 * and never reaches the relay; one whose webhook went away since is marked done here.
 */
export class RelayEvents {
  constructor(
    private readonly outbox: EventOutbox,
    private readonly bus: EventBus,
    private readonly settings: RelaySettings,
  ) {}

  /** Relays until the outbox is drained; returns how many events it handled. */
  async run(): Promise<number> {
    let handled = 0;
    for (;;) {
      const pending = await this.outbox.pending(this.settings.batchSize, this.settings.resendAfterMs);
      if (pending.length === 0) return handled;
      const wanted = pending.filter((p) => p.wanted).map((p) => p.event);
      if (wanted.length > 0) {
        await this.bus.publish(wanted);
        await this.outbox.markRelayed(wanted.map((e) => e.id));
      }
      const unwanted = pending.filter((p) => !p.wanted).map((p) => p.event.id);
      if (unwanted.length > 0) await this.outbox.markPublished(unwanted);
      for (const event of wanted) this.settings.observe?.(event);
      handled += pending.length;
      if (pending.length < this.settings.batchSize) return handled;
    }
  }
}

/**
 * One event's message: a delivery per webhook it matches (made once, whatever repeats),
 * each queued under its own id; then the event is done.
 */
export class FanOutEvent {
  constructor(
    private readonly outbox: EventOutbox,
    private readonly webhooks: WebhookRepository,
    private readonly deliveries: DeliveryQueue,
  ) {}

  async run(eventId: string): Promise<number> {
    const pending = await this.webhooks.planDeliveries(eventId);
    if (pending.length > 0) await this.deliveries.enqueue(pending);
    await this.outbox.markPublished([eventId]);
    return pending.length;
  }
}
