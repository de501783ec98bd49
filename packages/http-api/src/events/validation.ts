import { isEventPattern, WEBHOOK_FORMATS } from '@flink-orchestrator/domain';
import Joi from 'joi';
import { LIMITS } from '../shared/validation';

const eventPattern = Joi.string()
  .max(64)
  .custom((value: string, helpers) => (isEventPattern(value) ? value : helpers.error('any.invalid')))
  .messages({ 'any.invalid': '{{#label}} must be an event type (execution.failed), a group (execution.*) or *' });

const webhookFields = {
  url: Joi.string()
    .uri({ scheme: ['http', 'https'] })
    .max(LIMITS.urlLength),
  events: Joi.array().items(eventPattern).min(1).max(50).unique(),
  jobId: Joi.string().guid().allow(null),
  format: Joi.string().valid(...WEBHOOK_FORMATS),
  // Write-only; at least 16 characters so that it is worth signing with.
  secret: Joi.string().min(16).max(256).allow(null),
  enabled: Joi.boolean(),
};

export const createWebhookSchema = Joi.object({
  ...webhookFields,
  url: webhookFields.url.required(),
  events: webhookFields.events.required(),
  jobId: webhookFields.jobId.default(null),
  format: webhookFields.format.default('json'),
  secret: webhookFields.secret.default(null),
  enabled: webhookFields.enabled.default(true),
});

export const updateWebhookSchema = Joi.object(webhookFields)
  .or(...Object.keys(webhookFields))
  .messages({ 'object.missing': `send at least one field to change (${Object.keys(webhookFields).join(', ')})` });

/** The feed's query: `after` a cursor it gave, `type` comma-separated types or groups. */
export const eventFeedSchema = Joi.object({
  after: Joi.string().max(LIMITS.cursorLength),
  type: Joi.string()
    .max(1024)
    .custom((value: string, helpers) =>
      value.split(',').every((p) => isEventPattern(p.trim())) ? value : helpers.error('any.invalid'),
    )
    .messages({
      'any.invalid': '"type" must be comma-separated event types (execution.failed) or groups (execution.*)',
    }),
  jobId: Joi.string().guid(),
  limit: Joi.number().integer().min(1).max(LIMITS.pageSize).default(LIMITS.defaultPageSize),
});
