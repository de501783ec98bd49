import { UPGRADE_MODES } from '@flink-orchestrator/domain';
import Joi from 'joi';
import { jobFields } from '../jobs/validation';

// The definition fields an upgrade changes (at least one), how the running execution is
// stopped, and whether the new one may drop state the old one had.
export const upgradeSchema = Joi.object({
  jarURL: jobFields.jarURL,
  entryClass: jobFields.entryClass,
  config: jobFields.config,
  parallelism: jobFields.parallelism,
  mode: Joi.string()
    .valid(...UPGRADE_MODES)
    .default('savepoint'),
  allowNonRestoredState: Joi.boolean().default(false),
})
  .or('jarURL', 'entryClass', 'config', 'parallelism')
  .messages({ 'object.missing': 'send at least one field to change (jarURL, entryClass, config, parallelism)' });
