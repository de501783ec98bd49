import { EXECUTION_STATUSES } from '../executions/execution';
import { redactWebhookUrl } from './webhook';

const TICK_STATUSES = new Set(['SKIPPED', 'MISSED']);

/**
 * Every event type the outbox writes. The triggers in the migrations write them; a test
 * holds the two together. `tick.*` is a tick that did not run (of a start or an action schedule).
 */
export const EVENT_TYPES = [
  ...EXECUTION_STATUSES.filter((s) => !TICK_STATUSES.has(s)).map((s) => `execution.${s.toLowerCase()}`),
  'tick.skipped',
  'tick.missed',
  'job.created',
  'job.updated',
  'job.deleted',
  'schedule.set',
  'schedule.removed',
  'schedule.created',
  'schedule.deleted',
  'savepoint.completed',
  'savepoint.failed',
  'savepoint.disposed',
  'upgrade.requested',
  'upgrade.completed',
  'upgrade.failed',
  'cluster.created',
  'cluster.updated',
  'cluster.deleted',
  'webhook.disabled',
] as const;

const KNOWN = new Set<string>(EVENT_TYPES);
const GROUPS = new Set(EVENT_TYPES.map((t) => t.slice(0, t.indexOf('.'))));

/** Where a reader of the feed stands: after this transaction's event `id`. */
export interface EventCursor {
  tx: string;
  id: string;
}

export interface OrchestratorEvent {
  id: string;
  cursor: EventCursor;
  type: string;
  occurredAt: Date;
  jobId: string | null;
  executionId: string | null;
  payload: Record<string, unknown>;
}

/** `*`, a type (`execution.failed`) or a group (`execution.*`). */
export function isEventPattern(pattern: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) return GROUPS.has(pattern.slice(0, -2));
  return KNOWN.has(pattern);
}

export function eventPatternMatches(pattern: string, type: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) return type.startsWith(pattern.slice(0, -1));
  return pattern === type;
}

const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

/** One line a person reads in a chat channel. */
export function describeEvent(event: OrchestratorEvent): string {
  const p = event.payload;
  const job = text(p.jobName) ? `job *${String(p.jobName)}*` : event.jobId ? `job ${event.jobId}` : null;
  const error = text(p.error) ? `: ${String(p.error)}` : '';
  const [group, what] = event.type.split('.') as [string, string];
  switch (group) {
    case 'execution': {
      const from = text(p.trigger) ? ` (${String(p.trigger)})` : '';
      return `${job ?? 'a job'}: execution ${event.executionId ?? ''} ${what.toUpperCase()}${from}${error}`;
    }
    case 'tick': {
      const at = text(p.scheduledFor) ? ` due at ${String(p.scheduledFor)}` : '';
      const detail = text(p.detail) ? `: ${String(p.detail)}` : error;
      return `${job ?? 'a job'}: the ${text(p.action) ?? 'start'} tick${at} was ${what}${detail}`;
    }
    case 'savepoint': {
      const where = text(p.location) ? ` at ${String(p.location)}` : '';
      return `${job ?? 'a job'}: savepoint ${text(p.savepointId) ?? ''} ${what}${where}${error}`;
    }
    case 'cluster':
      return `cluster *${text(p.cluster) ?? ''}* ${what} (${text(p.url) ?? ''})`;
    case 'webhook':
      return `webhook ${text(p.webhookId) ?? ''} ${what}${text(p.reason) ? `: ${String(p.reason)}` : ''}`;
    default:
      return `${job ?? group}: ${group} ${what}${error}`;
  }
}

/** An event as webhooks receive it and the feed shows it (the feed adds its cursor). */
export function eventMessage(event: OrchestratorEvent): Record<string, unknown> {
  return {
    id: event.id,
    type: event.type,
    occurredAt: event.occurredAt.toISOString(),
    jobId: event.jobId,
    executionId: event.executionId,
    // A disabled webhook's URL may hold its credential (Slack's do): the feed and other webhooks get its host.
    data:
      event.type === 'webhook.disabled' && typeof event.payload.url === 'string'
        ? { ...event.payload, url: redactWebhookUrl(event.payload.url) }
        : event.payload,
  };
}
