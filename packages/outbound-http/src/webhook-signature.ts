import { createHmac, timingSafeEqual } from 'node:crypto';

/** Headers of every delivery; the README's recipe for receivers names them. */
export const WEBHOOK_HEADERS = {
  id: 'x-orchestrator-event-id',
  type: 'x-orchestrator-event-type',
  timestamp: 'x-orchestrator-timestamp',
  signature: 'x-orchestrator-signature',
} as const;

/**
 * `sha256=` and the hex HMAC-SHA256, keyed with the webhook's secret, of the timestamp
 * (Unix seconds, as sent), a dot, and the body's exact bytes. The timestamp is signed so a
 * captured delivery cannot be replayed later under a fresh one.
 */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex')}`;
}

/**
 * The receiver's side, as documented: the signature matches, compared in constant time, and
 * the timestamp is within `toleranceSeconds` of now.
 */
export function verifyWebhook(
  secret: string,
  headers: { timestamp: string; signature: string },
  body: string,
  options: { toleranceSeconds?: number; nowSeconds?: number } = {},
): boolean {
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  const sent = Number(headers.timestamp);
  if (!Number.isInteger(sent) || Math.abs(now - sent) > (options.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(webhookSignature(secret, headers.timestamp, body));
  const given = Buffer.from(headers.signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
