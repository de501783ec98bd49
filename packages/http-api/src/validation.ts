import {
  ADMISSION_MODES,
  EXECUTION_STATUSES,
  isEventPattern,
  WEBHOOK_FORMATS,
  EXECUTION_TRIGGERS,
  OVERLAP_POLICIES,
  REPLACE_MODES,
  RESTORE_FROM,
  SCHEDULE_ACTIONS,
  UPGRADE_MODES,
} from '@flink-orchestrator/domain';
import Joi from 'joi';
import { HttpProblem } from './problem';

// The OpenAPI document repeats these patterns as they are written here (`RegExp.source`): keep
// them valid ECMA-262 patterns under the `u` flag alone, which JSON Schema validators use.
// No `i` flag: a pattern's text cannot carry it.
const JOB_NAME = /^(?! )[\p{L}\p{N} ._-]+(?<! )$/u;
const JAVA_CLASS = /^(?:[\p{L}_$][\p{L}\p{N}_$]*\.)*[\p{L}_$][\p{L}\p{N}_$]*$/u;
const BARE_JAR_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*\.jar$/;
const CONFIG_KEY = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** A cluster name: a slug, as in a DNS label. */
export const CLUSTER_NAME = /^[a-z][a-z0-9-]{0,62}$/;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
/** A Flink JobID: 32 hex digits (Flink writes them in lower case; either is read). */
export const FLINK_JOB_ID = /^[0-9a-fA-F]{32}$/;

/** A savepoint given by its location: an absolute path, or a URI with a scheme (file:, s3://, hdfs://). */
const RESTORE_PATH = /^(?:\/|[a-z][a-z0-9+.-]*:)/;

/** The limits the API enforces; the OpenAPI document states the same numbers. */
export const LIMITS = {
  nameLength: 255,
  urlLength: 2048,
  bareJarNameLength: 255,
  classLength: 255,
  configKeys: 100,
  configKeyLength: 128,
  configValueLength: 4096,
  parallelism: 10_000,
  version: 2_147_483_647,
  pathLength: 1024,
  cronLength: 255,
  timezoneLength: 64,
  instantLength: 64,
  pageSize: 500,
  defaultPageSize: 50,
  cursorLength: 512,
  restartWindowMinutes: 7 * 24 * 60,
} as const;

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

const jobFields = {
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

const clusterName = Joi.string().min(1).max(63).pattern(CLUSTER_NAME).messages({
  'string.pattern.base':
    '"name" must be a slug: lower-case letters, digits and "-", 1 to 63 characters, starting with a letter',
});

// Credentials are write-only: they are stored, sent to the JobManager, and never answered.
const clusterAuth = Joi.alternatives()
  .try(
    Joi.object({
      type: Joi.string().valid('basic').required(),
      username: Joi.string().min(1).max(255).required(),
      password: Joi.string().min(1).max(1024).required(),
    }),
    Joi.object({
      type: Joi.string().valid('bearer').required(),
      token: Joi.string().min(1).max(4096).required(),
    }),
  )
  .allow(null)
  .messages({
    'alternatives.match':
      '"auth" must be basic credentials (type "basic", username, password), a bearer token (type "bearer", token), or null',
  });

const clusterFields = {
  url: Joi.string()
    .max(LIMITS.urlLength)
    .uri({ scheme: ['http', 'https'] })
    .messages({ 'string.uriCustomScheme': '"url" must be an absolute http(s) URL of the JobManager REST API' }),
  auth: clusterAuth,
  savepointDir: Joi.string().min(1).max(LIMITS.pathLength).allow(null),
};

export const createClusterSchema = Joi.object({
  name: clusterName.required(),
  ...clusterFields,
  url: clusterFields.url.required(),
});

// The name is the cluster's identity (jobs name it): a PUT changes the rest.
export const updateClusterSchema = Joi.object(clusterFields)
  .or(...Object.keys(clusterFields))
  .messages({ 'object.missing': `send at least one field to change (${Object.keys(clusterFields).join(', ')})` });

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

export const stopSchema = Joi.object({
  savepoint: Joi.boolean(),
  drain: Joi.boolean(),
});

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

export const pageSchema = Joi.object({
  limit: Joi.number().integer().min(1).max(LIMITS.pageSize).default(LIMITS.defaultPageSize),
  cursor: Joi.string().max(LIMITS.cursorLength),
});

/** What `since` and `until` may look like; parseInstant also checks the ranges. */
export const INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+ -]\d{2}:\d{2}))?$/;

/**
 * An ISO 8601 instant: a date (midnight UTC) or a date and time with `Z` or an offset.
 * A time without a zone is refused: it would mean the server's local time. A space
 * before the offset is read as `+`, which is what an unencoded `+` in a query string
 * turns into.
 */
export function parseInstant(text: string): Date | null {
  const m = INSTANT.exec(text);
  if (!m) return null;
  const [, year, month, day, hour = '00', minute = '00', second = '00', fraction = '', zone = 'Z'] = m;
  const inRange = (value: string, max: number, min = 0) => Number(value) >= min && Number(value) <= max;
  const daysInMonth = new Date(Date.UTC(Number(year), Number(month), 0)).getUTCDate();
  if (!inRange(month as string, 12, 1) || !inRange(day as string, daysInMonth, 1)) return null;
  if (!inRange(hour, 23) || !inRange(minute, 59) || !inRange(second, 59)) return null;
  if (zone !== 'Z' && (!inRange(zone.slice(1, 3), 23) || !inRange(zone.slice(4, 6), 59))) return null;
  const offset = zone === 'Z' ? 'Z' : `${zone[0] === '-' ? '-' : '+'}${zone.slice(1)}`;
  const date = new Date(`${year}-${month}-${day}T${hour}:${minute}:${second}${fraction.slice(0, 4)}${offset}`);
  return Number.isNaN(date.getTime()) ? null : date;
}

const instant = Joi.string()
  .max(LIMITS.instantLength)
  .custom((value: string, helpers) => parseInstant(value) ?? helpers.error('instant.base'))
  .messages({
    'instant.base':
      '{{#label}} must be an ISO 8601 date ("2026-12-01") or date-time with a zone ("2026-12-01T08:00:00Z")',
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

/** Validates `input`; a failure is a 400 naming every bad field. */
export function validate<T>(schema: Joi.Schema, input: unknown, options: { convert?: boolean } = {}): T {
  // JSON bodies are typed already: "5" is not a number there. Query strings convert.
  // An absent body reaches here as {}; a JSON `null` is a body, and not an object.
  const result = schema.validate(input === undefined ? {} : input, {
    abortEarly: false,
    convert: options.convert ?? false,
  });
  if (result.error) {
    const details = result.error.details.map((d) => ({ field: d.path.join('.') || null, message: d.message }));
    throw new HttpProblem(400, 'validation_failed', details.map((d) => d.message).join('; '), details);
  }
  return result.value as T;
}

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
