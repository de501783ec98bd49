import { ADMISSION_MODES, RESTORE_FROM } from '@flink-orchestrator/domain';
import Joi from 'joi';
import { CLUSTER_NAME } from '../clusters/validation';
import { LIMITS } from '../shared/validation';

// The OpenAPI document repeats these patterns as they are written here (`RegExp.source`): keep
// them valid ECMA-262 patterns under the `u` flag alone, which JSON Schema validators use.
// No `i` flag: a pattern's text cannot carry it.
const JOB_NAME = /^(?! )[\p{L}\p{N} ._-]+(?<! )$/u;
const JAVA_CLASS = /^(?:[\p{L}_$][\p{L}\p{N}_$]*\.)*[\p{L}_$][\p{L}\p{N}_$]*$/u;
const BARE_JAR_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*\.jar$/;
const CONFIG_KEY = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

const jarUrl = Joi.alternatives()
  .try(
    Joi.string()
      .max(LIMITS.urlLength)
      .uri({ scheme: ['http', 'https'] }),
    Joi.string().max(LIMITS.bareJarNameLength).pattern(BARE_JAR_NAME),
  )
  .messages({
    'alternatives.match':
      '"jarURL" must be an absolute http(s) URL or a bare JAR file name such as "data-processor.jar"',
  });

/** A `config` key, and a value: the OpenAPI document converts these two on their own. */
export const configKeySchema = Joi.string().max(LIMITS.configKeyLength).pattern(CONFIG_KEY);
export const configValueSchema = Joi.alternatives().try(
  Joi.string().max(LIMITS.configValueLength),
  Joi.number(),
  Joi.boolean(),
);

const config = Joi.object()
  .pattern(configKeySchema, configValueSchema)
  .max(LIMITS.configKeys)
  .messages({ 'alternatives.types': 'config values must be strings, numbers or booleans' });

/** A job's definition fields; an upgrade changes some of them. */
export const jobFields = {
  name: Joi.string().max(LIMITS.nameLength).pattern(JOB_NAME).messages({
    'string.pattern.base': '"name" may hold letters, digits, "-", "_", "." and inner spaces',
  }),
  jarURL: jarUrl,
  entryClass: Joi.string().max(LIMITS.classLength).pattern(JAVA_CLASS).allow(null).messages({
    'string.pattern.base': '"entryClass" must be a Java class name such as "com.example.Main"',
  }),
  config,
  parallelism: Joi.number().integer().min(1).max(LIMITS.parallelism).allow(null),
  enabled: Joi.boolean(),
  scheduleCron: Joi.string().max(LIMITS.cronLength),
  cluster: Joi.string().max(63).pattern(CLUSTER_NAME).messages({
    'string.pattern.base':
      '"cluster" must be a cluster name: lower-case letters, digits and "-", starting with a letter',
  }),
  // Whether a submission waits for the cluster's free slots ('slots') or goes to Flink regardless.
  admission: Joi.string().valid(...ADMISSION_MODES),
  // Missing fields take the defaults; null is the default policy (never restart).
  // Null: the service's defaults (SAVEPOINT_KEEP_LAST, SAVEPOINT_MAX_AGE_DAYS).
  savepointRetention: Joi.object({
    keepLast: Joi.number().integer().min(1).max(10_000).required(),
    maxAgeDays: Joi.number().integer().min(1).max(36_500).required(),
  }).allow(null),
  restartPolicy: Joi.object({
    onFailure: Joi.string().valid('never', 'restart'),
    onLost: Joi.string().valid('never', 'restart'),
    maxRestarts: Joi.number().integer().min(0).max(1000),
    withinMinutes: Joi.number().integer().min(1).max(LIMITS.restartWindowMinutes),
    backoffSeconds: Joi.number().integer().min(0).max(3600),
    restoreFrom: Joi.string().valid(...RESTORE_FROM),
  }).allow(null),
};

// No `version` here: a new job has none to check against, so POST refuses it as unknown.
export const createJobSchema = Joi.object({
  ...jobFields,
  name: jobFields.name.required(),
  jarURL: jobFields.jarURL.required(),
  admission: jobFields.admission.default('slots'),
});

// A PUT that names no field would change nothing: refuse it rather than answer a silent 200.
// `version` is not a change: the job version the client read (as If-Match does), checked.
const changeFields = Object.keys(jobFields);
export const updateJobSchema = Joi.object({
  ...jobFields,
  version: Joi.number().integer().min(1).max(LIMITS.version),
})
  .or(...changeFields)
  .messages({ 'object.missing': `send at least one field to change (${changeFields.join(', ')})` });

/**
 * `?validate=true` on POST and PUT /jobs: the definition as it would be saved is checked on its
 * Flink cluster first. Only `validate` is read: other query parameters were always ignored there.
 */
export const jobWriteQuerySchema = Joi.object({ validate: Joi.boolean() });
