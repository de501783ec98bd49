import { EXECUTION_STATUSES, EXECUTION_TRIGGERS } from '@flink-orchestrator/domain';
import Joi from 'joi';
import { instant, LIMITS, UUID } from '../shared/validation';

/** A savepoint given by its location: an absolute path, or a URI with a scheme (file:, s3://, hdfs://). */
const RESTORE_PATH = /^(?:\/|[a-z][a-z0-9+.-]*:)/;

export const startSchema = Joi.object({
  parallelism: Joi.number().integer().min(1).max(LIMITS.parallelism),
  savepointPath: Joi.string().min(1).max(LIMITS.pathLength),
  allowNonRestoredState: Joi.boolean(),
  // "latest-savepoint", a savepoint's id, or a path (absolute, or a URI such as s3://bucket/sp-1).
  restoreFrom: Joi.alternatives()
    .try(
      Joi.string().valid('latest-savepoint'),
      Joi.string().guid(),
      Joi.string().max(LIMITS.pathLength).pattern(RESTORE_PATH),
    )
    .messages({
      'alternatives.match':
        '"restoreFrom" must be "latest-savepoint", a savepoint id, or an absolute path or URI of a savepoint',
    }),
  // Start even inside the job's stop window (otherwise 409 in_stop_window).
  force: Joi.boolean(),
}).oxor('savepointPath', 'restoreFrom');

export const stopSchema = Joi.object({
  savepoint: Joi.boolean(),
  drain: Joi.boolean(),
});

/**
 * GET /api/v1/executions. Unknown parameters are refused: a misspelt filter ("satus")
 * would otherwise answer every execution instead of the few asked for.
 */
export const executionHistorySchema = Joi.object({
  status: Joi.string().valid(...EXECUTION_STATUSES),
  trigger: Joi.string().valid(...EXECUTION_TRIGGERS),
  jobId: Joi.string().pattern(UUID).messages({ 'string.pattern.base': '"jobId" must be a job id (a UUID)' }),
  since: instant,
  until: instant,
  // Checked by readPage.
  limit: Joi.any(),
  cursor: Joi.any(),
});
