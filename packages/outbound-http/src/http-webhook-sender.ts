import {
  PermanentFailure,
  TransientFailure,
  type WebhookRequest,
  type WebhookResponse,
  type WebhookSender,
} from '@flink-orchestrator/domain';
import axios, { isAxiosError } from 'axios';
import { permanentCause, type OutboundUrlPolicy } from './url-policy';
import { WEBHOOK_HEADERS, webhookSignature } from './webhook-signature';

export interface WebhookSenderOptions {
  policy: OutboundUrlPolicy;
  /** A receiver must answer within this; it should queue its work, not do it before answering. */
  timeoutMs: number;
}

/** POSTs one delivery through the outbound guard, signed when the webhook has a secret. */
export class HttpWebhookSender implements WebhookSender {
  constructor(private readonly options: WebhookSenderOptions) {}

  async send(request: WebhookRequest): Promise<WebhookResponse> {
    const { policy, timeoutMs } = this.options;
    const started = performance.now();
    try {
      policy.checkUrl(new URL(request.url));
      const timestamp = String(Math.floor(Date.now() / 1000));
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'user-agent': 'flink-orchestrator-webhooks',
        [WEBHOOK_HEADERS.id]: request.event.id,
        [WEBHOOK_HEADERS.type]: request.event.type,
        [WEBHOOK_HEADERS.timestamp]: timestamp,
      };
      if (request.secret)
        headers[WEBHOOK_HEADERS.signature] = webhookSignature(request.secret, timestamp, request.body);
      const res = await axios.post(request.url, request.body, {
        headers,
        timeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs),
        maxRedirects: 3,
        maxContentLength: 64 * 1024,
        responseType: 'text',
        validateStatus: () => true,
        transformRequest: [(body: string) => body],
        ...policy.requestOptions(),
      });
      return { statusCode: res.status, durationMs: performance.now() - started };
    } catch (error) {
      const refusal = permanentCause(error);
      if (refusal) throw refusal;
      if (error instanceof TypeError && /Invalid URL/.test(error.message))
        throw new PermanentFailure(`"${request.url}" is not a valid URL.`);
      const code = isAxiosError(error) ? (error.code ?? error.message) : (error as Error).message;
      const timedOut = code === 'ECONNABORTED' || code === 'ERR_CANCELED' || /timeout|aborted/i.test(code);
      throw new TransientFailure(
        timedOut
          ? `The receiver did not answer within ${timeoutMs} ms.`
          : `The request to ${new URL(request.url).host} failed: ${code}.`,
        { cause: error },
      );
    }
  }
}
