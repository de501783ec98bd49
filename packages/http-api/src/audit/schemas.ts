import { exactly, instant, nullable, uuid, type JsonSchema } from '../shared/schemas';

/** What the audit route answers. */
export const AUDIT_SCHEMAS: Record<string, JsonSchema> = {
  AuditEntry: exactly({
    id: uuid,
    at: instant,
    actor: { type: 'string', description: "the API token's name; anonymous with authentication off" },
    action: { type: 'string', examples: ['job.update', 'job.start', 'webhook.create'] },
    target: exactly({ type: { type: 'string' }, id: { type: ['string', 'null'] } }),
    jobId: nullable(uuid),
    changes: { description: 'what the request asked to change, secrets redacted; null when it sent nothing' },
    requestId: { type: ['string', 'null'] },
  }),
};
