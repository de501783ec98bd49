export { JarUrlPolicy, OutboundUrlPolicy, WebhookUrlPolicy, permanentCause, type PolicySubject } from './url-policy';
export { HttpWebhookSender, type WebhookSenderOptions } from './http-webhook-sender';
export { WEBHOOK_HEADERS, verifyWebhook, webhookSignature } from './webhook-signature';
