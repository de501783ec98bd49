import { OVERLAP_POLICIES, REPLACE_MODES, SCHEDULE_ACTIONS } from '@flink-orchestrator/domain';
import Joi from 'joi';
import { LIMITS } from '../shared/validation';

export const scheduleSchema = Joi.object({
  cron: Joi.string().max(LIMITS.cronLength).required(),
  timezone: Joi.string().max(LIMITS.timezoneLength).default('UTC'),
  overlap: Joi.string()
    .valid(...OVERLAP_POLICIES)
    .default('skip'),
  // Only with overlap replace, which the use case checks (a joi `when` would describe the
  // field as never valid in the OpenAPI document); it also applies the default, 'cancel'.
  replace: Joi.string().valid(...REPLACE_MODES),
  startAt: Joi.date().iso().allow(null).default(null),
  endAt: Joi.date().iso().allow(null).default(null),
  // Check the job on its cluster this many minutes before each tick (null: no check).
  preflightMinutes: Joi.number().integer().min(1).max(1440).allow(null).default(null),
});

// A schedule with an action, besides the job's start schedule. `savepoint` and `drain` go
// with `stop`, `restoreFrom` with `start` (the use case says so when they are misplaced).
export const actionScheduleSchema = Joi.object({
  action: Joi.string()
    .valid(...SCHEDULE_ACTIONS)
    .required(),
  cron: scheduleSchema.extract('cron'),
  timezone: scheduleSchema.extract('timezone'),
  startAt: scheduleSchema.extract('startAt'),
  endAt: scheduleSchema.extract('endAt'),
  savepoint: Joi.boolean(),
  drain: Joi.boolean(),
  restoreFrom: Joi.string().valid('latest-savepoint').allow(null),
});
