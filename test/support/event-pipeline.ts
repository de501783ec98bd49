import { DeliverWebhook, FanOutEvent, RelayEvents, type Clock, type RelaySettings } from '@flink-orchestrator/domain';
import { createLogger, systemClock } from '@flink-orchestrator/observability';
import { HttpWebhookSender, WebhookUrlPolicy } from '@flink-orchestrator/outbound-http';
import { KnexEventStore, KnexWebhookRepository, type Knex } from '@flink-orchestrator/postgres';
import {
  BullDeliveryQueue,
  BullEventBus,
  redisConnection,
  startEventConsumers,
  type RedisClient,
} from '@flink-orchestrator/queue-bullmq';
import type { Worker } from 'bullmq';

/**
 * The worker's event delivery (packages/worker/src/event-delivery.ts) built from the same
 * parts over real PostgreSQL and Redis, with the relay run by the test and the consumers
 * started when it says: relay → events queue → fan-out → deliveries queue → HTTP.
 */
export class EventPipeline {
  readonly outbox: KnexEventStore;
  readonly webhooks: KnexWebhookRepository;
  readonly producer: RedisClient;
  readonly bus: BullEventBus;
  readonly deliveries: BullDeliveryQueue;
  private blocking: RedisClient | null = null;
  private consumers: Worker[] = [];

  constructor(
    db: Knex,
    private readonly redis: { url: string; prefix: string },
    private readonly clock: Clock = systemClock,
  ) {
    this.outbox = new KnexEventStore(db);
    this.webhooks = new KnexWebhookRepository(db);
    this.producer = redisConnection(redis.url, 'producer');
    this.bus = new BullEventBus(this.producer, redis.prefix);
    this.deliveries = new BullDeliveryQueue(this.producer, redis.prefix);
  }

  relay(settings: Partial<RelaySettings> = {}): RelayEvents {
    return new RelayEvents(this.outbox, this.bus, { batchSize: 100, resendAfterMs: 60_000, ...settings });
  }

  fanOut(): FanOutEvent {
    return new FanOutEvent(this.outbox, this.webhooks, this.deliveries);
  }

  deliverer(retryWindowMs = 3600_000): DeliverWebhook {
    return new DeliverWebhook({
      webhooks: this.webhooks,
      sender: new HttpWebhookSender({ policy: new WebhookUrlPolicy(['127.0.0.1']), timeoutMs: 5000 }),
      clock: this.clock,
      log: createLogger({ level: 'silent', name: 'test' }),
      settings: { retryWindowMs },
    });
  }

  /** The fan-out and delivery consumers, retrying quickly. */
  startConsumers(): void {
    this.blocking = redisConnection(this.redis.url, 'worker');
    const fanOut = this.fanOut();
    const deliver = this.deliverer();
    this.consumers = startEventConsumers(
      this.blocking,
      { fanOut: (id) => fanOut.run(id), deliver: (id) => deliver.run(id) },
      {
        prefix: this.redis.prefix,
        concurrency: 4,
        lockDurationMs: 10_000,
        fanOutBackoff: { baseMs: 100, maxMs: 1000 },
        deliveryBackoff: { baseMs: 100, maxMs: 1000 },
      },
    );
    for (const c of this.consumers) c.on('error', () => undefined);
  }

  async stopConsumers(): Promise<void> {
    await Promise.all(this.consumers.splice(0).map((c) => c.close()));
    this.blocking?.disconnect();
    this.blocking = null;
  }

  async close(): Promise<void> {
    await this.stopConsumers();
    await Promise.allSettled([
      this.bus.queue.obliterate({ force: true }),
      this.deliveries.queue.obliterate({ force: true }),
    ]);
    await Promise.allSettled([this.bus.close(), this.deliveries.close()]);
    this.producer.disconnect();
  }
}
