import type { Config } from '@flink-orchestrator/config';
import {
  DeliverWebhook,
  failureText,
  FanOutEvent,
  RelayEvents,
  ResendPendingDeliveries,
  type Clock,
  type EventOutbox,
  type WebhookRepository,
} from '@flink-orchestrator/domain';
import type { Logger, Metrics } from '@flink-orchestrator/observability';
import { HttpWebhookSender, WebhookUrlPolicy } from '@flink-orchestrator/outbound-http';
import {
  BullDeliveryQueue,
  BullEventBus,
  startEventConsumers,
  type RedisClient,
} from '@flink-orchestrator/queue-bullmq';
import { every } from './periodic';

/** A relayed event not fanned out a minute on is relayed again (its message lost with Redis). */
const RESEND_AFTER_MS = 60_000;
const RELAY_BATCH = 500;
const PRUNE_BATCH = 5000;

export interface EventDelivery {
  /** The reconcile period's share: lost delivery messages sent again, old events pruned. */
  chores(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Events out of the worker: the relay (outbox → queue), the fan-out (event → one delivery
 * per webhook) and the deliveries, each attempt signed and sent through the outbound guard.
 */
export function startEventDelivery(deps: {
  config: Config;
  log: Logger;
  metrics: Metrics;
  clock: Clock;
  producer: RedisClient;
  blocking: RedisClient;
  outbox: EventOutbox;
  webhooks: WebhookRepository;
}): EventDelivery {
  const { config, log, metrics, clock, outbox, webhooks } = deps;
  const bus = new BullEventBus(deps.producer, config.queuePrefix);
  const deliveryQueue = new BullDeliveryQueue(deps.producer, config.queuePrefix);
  const relay = new RelayEvents(outbox, bus, {
    batchSize: RELAY_BATCH,
    resendAfterMs: RESEND_AFTER_MS,
    observe: (event) => metrics.eventsRelayed.inc({ type: event.type }),
  });
  const fanOut = new FanOutEvent(outbox, webhooks, deliveryQueue);
  const deliver = new DeliverWebhook({
    webhooks,
    sender: new HttpWebhookSender({
      policy: new WebhookUrlPolicy(config.webhookAllowedHosts),
      timeoutMs: config.webhooks.timeoutMs,
    }),
    clock,
    log,
    settings: { retryWindowMs: config.webhooks.retryWindowMs },
  });
  const resend = new ResendPendingDeliveries(webhooks, deliveryQueue, clock);
  const consumers = startEventConsumers(
    deps.blocking,
    {
      fanOut: (eventId) => fanOut.run(eventId),
      deliver: async (deliveryId) => {
        const started = performance.now();
        try {
          const outcome = await deliver.run(deliveryId);
          metrics.webhookDeliveries.inc({ outcome });
          if (outcome !== 'skipped') metrics.webhookDuration.observe((performance.now() - started) / 1000);
        } catch (error) {
          metrics.webhookDeliveries.inc({ outcome: 'retrying' });
          throw error;
        }
      },
    },
    {
      prefix: config.queuePrefix,
      concurrency: Math.max(config.workerConcurrency, 20),
      lockDurationMs: config.lockDurationMs,
      fanOutBackoff: { baseMs: 500, maxMs: 60_000 },
      deliveryBackoff: { baseMs: config.webhooks.backoffMs, maxMs: config.webhooks.backoffMaxMs },
    },
  );
  for (const c of consumers) c.on('error', (err) => log.warn({ err }, 'event queue worker error'));
  // Runs every few hundred milliseconds: an outage is logged when it begins, not on every pass.
  let failing = false;
  const relaying = every(config.eventRelayIntervalMs, log, async () => {
    try {
      await relay.run();
      if (failing) log.info({}, 'event relay running again');
      failing = false;
    } catch (error) {
      if (!failing) log.warn({ reason: failureText(error) }, 'event relay failed; events wait in the outbox');
      failing = true;
    }
  });
  relaying.runNow();

  return {
    async chores() {
      const resent = await resend.run(RESEND_AFTER_MS);
      if (resent > 0) log.info({ resent }, 'pending webhook deliveries sent again');
      const before = new Date(clock.now().getTime() - config.eventRetentionDays * 24 * 3600_000);
      await outbox.prune(before, PRUNE_BATCH);
      metrics.outboxPending.set(await outbox.countPending());
    },
    async close() {
      relaying.stop();
      await Promise.all(consumers.map((c) => c.close()));
      await Promise.allSettled([bus.close(), deliveryQueue.close()]);
    },
  };
}
