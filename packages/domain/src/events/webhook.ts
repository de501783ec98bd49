export const WEBHOOK_FORMATS = ['json', 'slack'] as const;

/**
 * A webhook URL as those who may not hold its credential see it: scheme and host only. Slack's
 * incoming webhooks (and many other receivers) carry the credential in the path or the query,
 * so every webhook URL is treated so, whatever its format.
 */
export function redactWebhookUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '…';
  }
  const bare = parsed.pathname === '/' && parsed.search === '' && parsed.hash === '' && parsed.username === '';
  return `${parsed.protocol}//${parsed.host}/${bare ? '' : '…'}`;
}
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

/** Where events are POSTed. The secret is write-only: the entity says only whether there is one. */
export interface Webhook {
  id: string;
  url: string;
  /** Types or patterns (`execution.*`, `*`). */
  events: string[];
  /** Only this job's events; null: every job's (and events of no job, such as a cluster's). */
  jobId: string | null;
  format: WebhookFormat;
  enabled: boolean;
  hasSecret: boolean;
  /** Why the service disabled it (failing for longer than the retry window). */
  disabledReason: string | null;
  /** Since when every delivery has failed; null while deliveries succeed. */
  failingSince: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewWebhook {
  url: string;
  events: string[];
  jobId: string | null;
  format: WebhookFormat;
  secret: string | null;
  enabled: boolean;
}

/** Absent fields keep their value; `secret: null` removes the secret. */
export type WebhookChanges = Partial<NewWebhook>;

export type DeliveryStatus = 'PENDING' | 'DELIVERED' | 'FAILED';

export interface WebhookDelivery {
  id: string;
  webhookId: string;
  eventId: string;
  eventType: string;
  status: DeliveryStatus;
  attempts: number;
  /** The receiver's last answer; null when it never answered (refused, timed out). */
  statusCode: number | null;
  durationMs: number | null;
  lastError: string | null;
  createdAt: Date;
  lastAttemptAt: Date | null;
  deliveredAt: Date | null;
}
