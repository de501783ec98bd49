import { count, exactly, instant, nullable, uuid, type JsonSchema } from '../shared/schemas';

/** What the event feed and the webhooks routes answer. */
export const EVENT_SCHEMAS: Record<string, JsonSchema> = {
  Webhook: exactly({
    id: uuid,
    url: {
      type: 'string',
      description:
        'whole to write tokens; read-only tokens see its scheme and host (https://hooks.slack.com/…): the rest may be its credential',
    },
    events: { type: 'array', items: { type: 'string' }, description: 'event types, groups (execution.*) or *' },
    jobId: { ...nullable(uuid), description: "only this job's events; null: every event" },
    format: { enum: ['json', 'slack'] },
    enabled: { type: 'boolean' },
    hasSecret: { type: 'boolean', description: 'the secret itself is write-only' },
    disabledReason: { type: ['string', 'null'], description: 'why the service disabled it' },
    failingSince: { ...nullable(instant), description: 'since when every delivery has failed' },
    createdAt: instant,
    updatedAt: instant,
  }),
  WebhookDelivery: exactly({
    id: uuid,
    eventId: { type: 'string' },
    eventType: { type: 'string' },
    status: { enum: ['PENDING', 'DELIVERED', 'FAILED'] },
    attempts: count,
    statusCode: { type: ['integer', 'null'], description: "the receiver's last answer; null: none" },
    durationMs: { type: ['integer', 'null'] },
    lastError: { type: ['string', 'null'] },
    createdAt: instant,
    lastAttemptAt: nullable(instant),
    deliveredAt: nullable(instant),
  }),
  Event: exactly({
    id: { type: 'string', description: 'unique; a receiver drops a repeated one (delivery is at least once)' },
    type: { type: 'string', examples: ['execution.failed', 'tick.missed', 'savepoint.completed'] },
    occurredAt: instant,
    jobId: nullable(uuid),
    executionId: nullable(uuid),
    data: { type: 'object', description: 'what the event is about: job name, status, error, ...' },
    cursor: { type: 'string', description: 'pass as `after` to read the events after this one' },
  }),
};
