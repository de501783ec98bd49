import type { OrchestratorEvent } from './event';

export interface WebhookRequest {
  url: string;
  /** The exact bytes sent, as signed. */
  body: string;
  event: OrchestratorEvent;
  /** Signs the request when set. */
  secret: string | null;
}

/** The receiver's answer; any status, 2xx or not. A request that got no answer throws. */
export interface WebhookResponse {
  statusCode: number;
  durationMs: number;
}

export interface WebhookSender {
  /** Throws TransientFailure (no answer: refused, timed out) or PermanentFailure (URL not allowed). */
  send(request: WebhookRequest): Promise<WebhookResponse>;
}

/** Queues delivery attempts, each under its delivery's id. */
export interface DeliveryQueue {
  enqueue(deliveryIds: readonly string[]): Promise<void>;
}
