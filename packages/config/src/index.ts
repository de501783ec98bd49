import Joi from 'joi';

/** Every setting of both processes, with its default. One table in the README mirrors this. */
export interface Config {
  port: number;
  databaseUrl: string;
  redisUrl: string;
  /** Seed nodes of a Redis Cluster; null for one Redis at `redisUrl`. */
  redisClusterNodes: { host: string; port: number }[] | null;
  /** Prefix of every Redis key, so several deployments (or test runs) can share a Redis. */
  queuePrefix: string;
  flinkJobManagerUrl: string;
  dataProcessorUrl: string;
  logLevel: string;
  migrateOnStart: boolean;
  /** Create the database when it is missing (development only). */
  createDatabase: boolean;
  workerConcurrency: number;
  jarMaxBytes: number;
  jarDownloadTimeoutMs: number;
  /** Per-request timeout for Flink's REST API (a run request gets 12× as long). */
  flinkTimeoutMs: number;
  /** How long a worker takes a JAR it got onto a cluster as still there and unchanged (0: asks every start). */
  jarReuseMs: number;
  savepointDir: string | null;
  /** Each cluster's observer reads Flink's job list this often. */
  pollIntervalMs: number;
  /** How long a RUNNING execution's Flink job may be missing before it is LOST. */
  lostGraceMs: number;
  /** How long a submission may wait for free slots before it fails. */
  admissionTimeoutMs: number;
  scheduleMisfireGraceMs: number;
  /** How long an action tick may stay `pending` (claimed, no outcome) before the chores settle it `abandoned`. */
  scheduleTickAbandonAfterMs: number;
  /** How long a tick under `overlap: replace` waits for the old execution to end before it gives up (SKIPPED). */
  scheduleReplaceWaitMs: number;
  /** How long an upgrade's new execution must run before the upgrade is COMPLETED. */
  upgradeConfirmMs: number;
  /** How long one try of a stop waits for Flink to finish a cancel or a savepoint before it is retried. */
  stopTimeoutMs: number;
  shutdownTimeoutMs: number;
  metricsPort: number;
  /** How long a worker may go silent before BullMQ hands its job to another worker. */
  lockDurationMs: number;
  /** Tries of a pipeline step, with exponential backoff from `retryBackoffMs`. */
  retryAttempts: number;
  retryBackoffMs: number;
  /** How often a worker compares PostgreSQL with Redis (schedules, pending work). */
  reconcileIntervalMs: number;
  /** Days SKIPPED and MISSED executions (ticks that did not run) are kept. */
  executionRetentionSkippedDays: number;
  /** Days other ended executions are kept; null: forever. */
  executionRetentionDays: number | null;
  /** Savepoint retention of jobs that set none: the newest `keepLast`, none older than `maxAgeDays`. */
  savepointRetention: { keepLast: number; maxAgeDays: number };
  /** API bearer tokens; `write` may change things, `read` may only read. */
  apiTokens: { name: string; token: string; access: 'read' | 'write' }[];
  authDisabled: boolean;
  metricsToken: string | null;
  corsOrigins: string[];
  /** Hosts the worker may fetch JARs from (after DNS resolution); default: the data-processor's host. */
  jarAllowedHosts: string[];
  /** Hosts webhooks may be delivered to (after DNS resolution); default: Slack's incoming webhooks. */
  webhookAllowedHosts: string[];
  webhooks: {
    /** A receiver must answer within this. */
    timeoutMs: number;
    /** How long a delivery is retried, and how long a webhook may fail before it is disabled. */
    retryWindowMs: number;
    /** The first retry's wait; each next one doubles, up to `backoffMaxMs`. */
    backoffMs: number;
    backoffMaxMs: number;
  };
  /** How often a worker moves committed events from the outbox to the queue. */
  eventRelayIntervalMs: number;
  /** Days events are kept in the feed. */
  eventRetentionDays: number;
  /** Bull Board: off unless credentials are set; read-only unless told otherwise. */
  board: { user: string | null; password: string | null; readOnly: boolean };
}

const url = (schemes: string[]) => Joi.string().uri({ scheme: schemes });

// "name=token,name2=token2": a name for the logs, a secret of at least 16 characters.
const tokenList = Joi.string()
  .allow('')
  .pattern(/^([A-Za-z0-9_.-]{1,64}=[^,=\s]{16,256})(,[A-Za-z0-9_.-]{1,64}=[^,=\s]{16,256})*$/)
  .messages({ 'string.pattern.base': 'must be comma-separated name=token pairs, each token at least 16 characters' });

// The validated value of a list variable: a string, or undefined when it is not set.
const list = (value: unknown) =>
  (typeof value === 'string' ? value : '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

function tokens(value: unknown, access: 'read' | 'write') {
  return list(value).map((pair) => {
    const [name, token] = pair.split('=') as [string, string];
    return { name, token, access };
  });
}

/** Every environment variable read, with its rule and default. */
const VARIABLES = {
  PORT: Joi.number().port().default(8080),
  DATABASE_URL: url(['postgres', 'postgresql']).default('postgres://postgres@127.0.0.1:5432/orchestrator'),
  REDIS_URL: url(['redis', 'rediss']).default('redis://127.0.0.1:6379'),
  // A Redis Cluster needs every key of a queue in one hash slot: the prefix is then a hash tag.
  REDIS_CLUSTER_NODES: Joi.string()
    .pattern(/^[^\s,:]+:\d{1,5}(,[^\s,:]+:\d{1,5})*$/)
    .allow('')
    .messages({ 'string.pattern.base': 'must be a comma-separated list of host:port' }),
  QUEUE_PREFIX: Joi.string()
    .pattern(/^[A-Za-z0-9_.:-]{1,64}$|^\{[A-Za-z0-9_.:-]{1,62}\}$/)
    .default('flink-orchestrator')
    .when('REDIS_CLUSTER_NODES', {
      is: Joi.string().min(1).required(),
      then: Joi.string()
        .pattern(/^\{[A-Za-z0-9_.:-]{1,62}\}$/)
        .default('{flink-orchestrator}')
        .messages({
          'string.pattern.base':
            'must be a Redis hash tag (a name between curly braces) with REDIS_CLUSTER_NODES: BullMQ needs all keys of a queue in one hash slot',
        }),
    }),
  FLINK_JOBMANAGER_URL: url(['http', 'https']).default('http://flink-jobmanager:8081'),
  DATA_PROCESSOR_URL: url(['http', 'https']).default('http://data-processor:8080'),
  LOG_LEVEL: Joi.string().valid('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent').default('info'),
  MIGRATE_ON_START: Joi.boolean().default(true),
  NODE_ENV: Joi.string().default('development'),
  WORKER_CONCURRENCY: Joi.number().integer().min(1).max(1000).default(10),
  JAR_MAX_BYTES: Joi.number()
    .integer()
    .min(1)
    .default(512 * 1024 * 1024),
  JAR_DOWNLOAD_TIMEOUT_MS: Joi.number().integer().min(1000).default(300_000),
  FLINK_TIMEOUT_MS: Joi.number().integer().min(100).default(15_000),
  JAR_REUSE_MS: Joi.number().integer().min(0).max(60_000).default(5000),
  SAVEPOINT_DIR: Joi.string().allow('').default(''),
  POLL_INTERVAL_MS: Joi.number().integer().min(100).default(2000),
  LOST_GRACE_MS: Joi.number().integer().min(0).default(30_000),
  ADMISSION_TIMEOUT: Joi.number().integer().min(0).default(600).description('seconds'),
  SCHEDULE_MISFIRE_GRACE: Joi.number().integer().min(0).default(60).description('seconds'),
  SCHEDULE_TICK_ABANDON_AFTER: Joi.number().integer().min(1).default(300).description('seconds'),
  SCHEDULE_REPLACE_WAIT_MS: Joi.number().integer().min(0).default(60_000),
  STOP_TIMEOUT_MS: Joi.number().integer().min(1000).default(600_000),
  UPGRADE_CONFIRM_MS: Joi.number().integer().min(0).default(10_000),
  SHUTDOWN_TIMEOUT_MS: Joi.number().integer().min(0).default(30_000),
  METRICS_PORT: Joi.number().port().default(9464),
  LOCK_DURATION_MS: Joi.number().integer().min(1000).default(30_000),
  RETRY_ATTEMPTS: Joi.number().integer().min(1).max(50).default(8),
  RETRY_BACKOFF_MS: Joi.number().integer().min(10).default(2000),
  RECONCILE_INTERVAL_MS: Joi.number().integer().min(500).default(60_000),
  EXECUTION_RETENTION_SKIPPED_DAYS: Joi.number().integer().min(1).max(36_500).default(7),
  EXECUTION_RETENTION_DAYS: Joi.number().integer().min(1).max(36_500).allow(''),
  SAVEPOINT_KEEP_LAST: Joi.number().integer().min(1).max(10_000).default(5),
  SAVEPOINT_MAX_AGE_DAYS: Joi.number().integer().min(1).max(36_500).default(30),
  BOARD_USER: Joi.string().max(128).allow(''),
  BOARD_PASSWORD: Joi.string()
    .max(256)
    .allow('')
    .when('BOARD_USER', {
      is: Joi.string().min(1).required(),
      then: Joi.string()
        .min(8)
        .required()
        .messages({ 'any.required': 'is required (at least 8 characters) when BOARD_USER is set' }),
    }),
  BOARD_READ_ONLY: Joi.boolean().default(true),
  API_TOKENS: tokenList,
  API_READ_TOKENS: tokenList,
  AUTH_DISABLED: Joi.boolean().default(false),
  METRICS_TOKEN: Joi.string().min(16).max(256).allow(''),
  CORS_ORIGINS: Joi.string().allow(''),
  JAR_ALLOWED_HOSTS: Joi.string().allow(''),
  WEBHOOK_ALLOWED_HOSTS: Joi.string().allow('').default('hooks.slack.com'),
  WEBHOOK_TIMEOUT_MS: Joi.number().integer().min(100).max(60_000).default(5000),
  WEBHOOK_RETRY_WINDOW_MS: Joi.number()
    .integer()
    .min(1000)
    .default(24 * 3600_000),
  WEBHOOK_BACKOFF_MS: Joi.number().integer().min(10).default(2000),
  WEBHOOK_BACKOFF_MAX_MS: Joi.number().integer().min(10).default(600_000),
  EVENT_RELAY_INTERVAL_MS: Joi.number().integer().min(10).default(250),
  EVENT_RETENTION_DAYS: Joi.number().integer().min(1).max(36_500).default(7),
};

const schema = Joi.object(VARIABLES).unknown(true);

/** The settings that are their variable's validated value as it is, and that variable. */
const AS_IS = {
  port: 'PORT',
  databaseUrl: 'DATABASE_URL',
  redisUrl: 'REDIS_URL',
  queuePrefix: 'QUEUE_PREFIX',
  flinkJobManagerUrl: 'FLINK_JOBMANAGER_URL',
  dataProcessorUrl: 'DATA_PROCESSOR_URL',
  logLevel: 'LOG_LEVEL',
  migrateOnStart: 'MIGRATE_ON_START',
  workerConcurrency: 'WORKER_CONCURRENCY',
  jarMaxBytes: 'JAR_MAX_BYTES',
  jarDownloadTimeoutMs: 'JAR_DOWNLOAD_TIMEOUT_MS',
  flinkTimeoutMs: 'FLINK_TIMEOUT_MS',
  jarReuseMs: 'JAR_REUSE_MS',
  pollIntervalMs: 'POLL_INTERVAL_MS',
  lostGraceMs: 'LOST_GRACE_MS',
  scheduleReplaceWaitMs: 'SCHEDULE_REPLACE_WAIT_MS',
  stopTimeoutMs: 'STOP_TIMEOUT_MS',
  upgradeConfirmMs: 'UPGRADE_CONFIRM_MS',
  shutdownTimeoutMs: 'SHUTDOWN_TIMEOUT_MS',
  metricsPort: 'METRICS_PORT',
  lockDurationMs: 'LOCK_DURATION_MS',
  retryAttempts: 'RETRY_ATTEMPTS',
  retryBackoffMs: 'RETRY_BACKOFF_MS',
  reconcileIntervalMs: 'RECONCILE_INTERVAL_MS',
  executionRetentionSkippedDays: 'EXECUTION_RETENTION_SKIPPED_DAYS',
  authDisabled: 'AUTH_DISABLED',
  eventRelayIntervalMs: 'EVENT_RELAY_INTERVAL_MS',
  eventRetentionDays: 'EVENT_RETENTION_DAYS',
} as const satisfies Partial<Record<keyof Config, keyof typeof VARIABLES>>;

type AsIs = keyof typeof AS_IS;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** Reads and validates the environment; every bad or missing value is named at once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const result = schema.validate(env, { abortEarly: false, convert: true });
  if (result.error)
    throw new ConfigError(
      result.error.details.map((d) => `${d.context?.key ?? d.path.join('.')}: ${d.message.replace(/^"[^"]+" /, '')}`),
    );
  const v = result.value as Record<string, unknown>;
  const asIs = Object.fromEntries(Object.entries(AS_IS).map(([key, name]) => [key, v[name]])) as Pick<Config, AsIs>;
  return {
    ...asIs,
    createDatabase: v.NODE_ENV !== 'production',
    redisClusterNodes: list(v.REDIS_CLUSTER_NODES).length ? list(v.REDIS_CLUSTER_NODES).map(redisNode) : null,
    savepointDir: (v.SAVEPOINT_DIR as string) || null,
    scheduleMisfireGraceMs: (v.SCHEDULE_MISFIRE_GRACE as number) * 1000,
    scheduleTickAbandonAfterMs: (v.SCHEDULE_TICK_ABANDON_AFTER as number) * 1000,
    admissionTimeoutMs: (v.ADMISSION_TIMEOUT as number) * 1000,
    executionRetentionDays: (v.EXECUTION_RETENTION_DAYS as number | '' | undefined) || null,
    savepointRetention: {
      keepLast: v.SAVEPOINT_KEEP_LAST as number,
      maxAgeDays: v.SAVEPOINT_MAX_AGE_DAYS as number,
    },
    apiTokens: [...tokens(v.API_TOKENS, 'write'), ...tokens(v.API_READ_TOKENS, 'read')],
    metricsToken: (v.METRICS_TOKEN as string | undefined) || null,
    corsOrigins: list(v.CORS_ORIGINS),
    jarAllowedHosts: list(v.JAR_ALLOWED_HOSTS).length
      ? list(v.JAR_ALLOWED_HOSTS)
      : [new URL(v.DATA_PROCESSOR_URL as string).hostname],
    webhookAllowedHosts: list(v.WEBHOOK_ALLOWED_HOSTS),
    webhooks: {
      timeoutMs: v.WEBHOOK_TIMEOUT_MS as number,
      retryWindowMs: v.WEBHOOK_RETRY_WINDOW_MS as number,
      backoffMs: v.WEBHOOK_BACKOFF_MS as number,
      backoffMaxMs: v.WEBHOOK_BACKOFF_MAX_MS as number,
    },
    board: {
      user: (v.BOARD_USER as string | undefined) || null,
      password: (v.BOARD_PASSWORD as string | undefined) || null,
      readOnly: v.BOARD_READ_ONLY as boolean,
    },
  };
}

function redisNode(hostPort: string): { host: string; port: number } {
  const at = hostPort.lastIndexOf(':');
  return { host: hostPort.slice(0, at), port: Number(hostPort.slice(at + 1)) };
}
