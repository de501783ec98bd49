import Joi from 'joi';
import { instant, UUID } from '../shared/validation';

export const auditQuerySchema = Joi.object({
  jobId: Joi.string().pattern(UUID).messages({ 'string.pattern.base': '"jobId" must be a job id (a UUID)' }),
  actor: Joi.string()
    .pattern(/^[A-Za-z0-9_.-]{1,64}$/)
    .messages({ 'string.pattern.base': '"actor" must be a token name' }),
  since: instant,
  // Checked by readPage.
  limit: Joi.any(),
  cursor: Joi.any(),
});
