import {
  DependencyUnavailable,
  type DeliveryQueue,
  type EventBus,
  type OrchestratorEvent,
} from '@flink-orchestrator/domain';
import { withTimeout } from '@flink-orchestrator/observability';
import { Queue, Worker } from 'bullmq';
import type { RedisClient } from './connection';
import { workerOptions, type ConsumerOptions } from './consumer-options';

export const EVENTS_QUEUE = 'events';
export const DELIVERIES_QUEUE = 'webhook-deliveries';

/** BullMQ's id of an event's fan-out message and of a delivery's attempts: the queue keeps one of each. */
export const eventMessageId = (eventId: string) => `event-${eventId}`;
export const deliveryMessageId = (deliveryId: string) => `delivery-${deliveryId}`;

const ADD_TIMEOUT_MS = 3000;
/** Retried until it succeeds: the domain decides when a delivery gives up (its retry window). */
const UNTIL_DONE = 1_000_000;

export interface Backoff {
  baseMs: number;
  maxMs: number;
}

/**
 * Exponential from `baseMs`, capped at `maxMs`, each wait drawn from its upper half so that
 * webhooks failing together do not all come back at once.
 */
export function backoffDelay(attemptsMade: number, backoff: Backoff, random = Math.random): number {
  const ceiling = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.max(0, attemptsMade - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

async function addAll(queue: Queue, jobs: Parameters<Queue['addBulk']>[0]): Promise<void> {
  try {
    await withTimeout(queue.addBulk(jobs), ADD_TIMEOUT_MS, `Redis did not answer within ${ADD_TIMEOUT_MS} ms`);
  } catch (error) {
    throw new DependencyUnavailable('redis', error);
  }
}

/**
 * A message retried until it succeeds, with the consumer's capped backoff, kept `keptS`
 * seconds once done: a second add under its id meanwhile is ignored.
 */
function untilDone(jobId: string, keptS: number, keptCount: number) {
  return {
    jobId,
    attempts: UNTIL_DONE,
    backoff: { type: 'capped' },
    removeOnComplete: { age: keptS, count: keptCount },
    removeOnFail: { age: 24 * 3600 },
  };
}

/** The relay's side: one fan-out message per event, under the event's id. */
export class BullEventBus implements EventBus {
  readonly queue: Queue;

  constructor(connection: RedisClient, prefix: string) {
    this.queue = new Queue(EVENTS_QUEUE, { connection, prefix });
    this.queue.on('error', () => undefined);
  }

  publish(events: readonly OrchestratorEvent[]): Promise<void> {
    return addAll(
      this.queue,
      events.map((event) => ({
        name: event.type,
        data: { eventId: event.id },
        // Kept a day: the relay sending it again (a crash before its mark) finds it and adds nothing.
        opts: untilDone(eventMessageId(event.id), 24 * 3600, 100_000),
      })),
    );
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}

/** The fan-out's side: one message per delivery, retried with backoff. */
export class BullDeliveryQueue implements DeliveryQueue {
  readonly queue: Queue;

  constructor(connection: RedisClient, prefix: string) {
    this.queue = new Queue(DELIVERIES_QUEUE, { connection, prefix });
    this.queue.on('error', () => undefined);
  }

  enqueue(deliveryIds: readonly string[]): Promise<void> {
    return addAll(
      this.queue,
      deliveryIds.map((id) => ({
        name: 'deliver',
        data: { deliveryId: id },
        opts: untilDone(deliveryMessageId(id), 3600, 10_000),
      })),
    );
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}

export interface EventHandlers {
  fanOut(eventId: string): Promise<unknown>;
  deliver(deliveryId: string): Promise<unknown>;
}

/** The fan-out and the delivery consumers; a failed attempt comes back after `backoff`. */
export function startEventConsumers(
  connection: RedisClient,
  handlers: EventHandlers,
  options: ConsumerOptions & { fanOutBackoff: Backoff; deliveryBackoff: Backoff },
): Worker[] {
  const consumer = (name: string, run: (data: Record<string, string>) => Promise<unknown>, backoff: Backoff) =>
    new Worker(name, async (job) => run(job.data as Record<string, string>), {
      ...workerOptions(connection, options),
      settings: { backoffStrategy: (attemptsMade: number) => backoffDelay(attemptsMade, backoff) },
    });
  return [
    consumer(EVENTS_QUEUE, (data) => handlers.fanOut(String(data.eventId)), options.fanOutBackoff),
    consumer(DELIVERIES_QUEUE, (data) => handlers.deliver(String(data.deliveryId)), options.deliveryBackoff),
  ];
}
