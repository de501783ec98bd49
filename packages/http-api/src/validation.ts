import { OVERLAP_POLICIES, REPLACE_MODES } from '@flink-orchestrator/domain';
import Joi from 'joi';
import { HttpProblem } from './problem';

const JOB_NAME = /^(?! )[\p{L}\p{N} ._-]+(?<! )$/u;
const JAVA_CLASS = /^(?:[\p{L}_$][\p{L}\p{N}_$]*\.)*[\p{L}_$][\p{L}\p{N}_$]*$/u;
const BARE_JAR_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*\.jar$/;
const CONFIG_KEY = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export const LIMITS = {
  nameLength: 255,
  urlLength: 2048,
  classLength: 255,
  configKeys: 100,
  configKeyLength: 128,
  configValueLength: 4096,
  pathLength: 1024,
  pageSize: 500,
} as const;

const jarUrl = Joi.alternatives()
  .try(
    Joi.string()
      .max(LIMITS.urlLength)
      .uri({ scheme: ['http', 'https'] }),
    Joi.string().max(255).pattern(BARE_JAR_NAME),
  )
  .messages({
    'alternatives.match':
      '"jarURL" must be an absolute http(s) URL or a bare JAR file name such as "data-processor.jar"',
  });

const config = Joi.object()
  .pattern(
    Joi.string().max(LIMITS.configKeyLength).pattern(CONFIG_KEY),
    Joi.alternatives().try(Joi.string().max(LIMITS.configValueLength), Joi.number(), Joi.boolean()),
  )
  .max(LIMITS.configKeys)
  .messages({ 'alternatives.types': 'config values must be strings, numbers or booleans' });

const jobFields = {
  name: Joi.string().max(LIMITS.nameLength).pattern(JOB_NAME).messages({
    'string.pattern.base': '"name" may hold letters, digits, "-", "_", "." and inner spaces',
  }),
  jarURL: jarUrl,
  entryClass: Joi.string().max(LIMITS.classLength).pattern(JAVA_CLASS).allow(null).messages({
    'string.pattern.base': '"entryClass" must be a Java class name such as "com.example.Main"',
  }),
  config,
  parallelism: Joi.number().integer().min(1).max(10_000).allow(null),
  enabled: Joi.boolean(),
  scheduleCron: Joi.string().max(255),
};

export const createJobSchema = Joi.object({
  ...jobFields,
  name: jobFields.name.required(),
  jarURL: jobFields.jarURL.required(),
});

// A PUT that names no field would change nothing: refuse it rather than answer a silent 200.
export const updateJobSchema = Joi.object(jobFields).min(1).messages({
  'object.min':
    'send at least one field to change (name, jarURL, entryClass, config, parallelism, enabled, scheduleCron)',
});

export const startSchema = Joi.object({
  parallelism: Joi.number().integer().min(1).max(10_000),
  savepointPath: Joi.string().min(1).max(LIMITS.pathLength),
  allowNonRestoredState: Joi.boolean(),
  restoreFrom: Joi.string().valid('latest-savepoint'),
}).oxor('savepointPath', 'restoreFrom');

export const stopSchema = Joi.object({
  savepoint: Joi.boolean(),
  drain: Joi.boolean(),
});

export const scheduleSchema = Joi.object({
  cron: Joi.string().max(255).required(),
  timezone: Joi.string().max(64).default('UTC'),
  overlap: Joi.string()
    .valid(...OVERLAP_POLICIES)
    .default('skip'),
  // Only with overlap replace, which the use case checks (a joi `when` would describe the
  // field as never valid in the OpenAPI document); it also applies the default, 'cancel'.
  replace: Joi.string().valid(...REPLACE_MODES),
  startAt: Joi.date().iso().allow(null).default(null),
  endAt: Joi.date().iso().allow(null).default(null),
});

export const pageSchema = Joi.object({
  limit: Joi.number().integer().min(1).max(LIMITS.pageSize).default(50),
  cursor: Joi.string().max(512),
});

/** Validates `input`; a failure is a 400 naming every bad field. */
export function validate<T>(schema: Joi.Schema, input: unknown, options: { convert?: boolean } = {}): T {
  // JSON bodies are typed already: "5" is not a number there. Query strings convert.
  // An absent body reaches here as {}; a JSON `null` is a body, and not an object.
  const { value, error } = schema.validate(input === undefined ? {} : input, {
    abortEarly: false,
    convert: options.convert ?? false,
  });
  if (error) {
    const details = error.details.map((d) => ({ field: d.path.join('.') || null, message: d.message }));
    throw new HttpProblem(400, 'validation_failed', details.map((d) => d.message).join('; '), details);
  }
  return value as T;
}
