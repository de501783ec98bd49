import { randomBytes } from 'node:crypto';
import { loadConfig, type Config } from '@flink-orchestrator/config';
import IORedis from 'ioredis';
import { Client } from 'pg';

/**
 * The test run's own resources: a database it creates (and may drop), and a Redis key
 * prefix nobody else uses. Nothing outside them is ever touched.
 */
const ADMIN_URL = process.env.TEST_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
// One database per test run, so two runs on one machine never drop each other's data.
export const TEST_DATABASE = process.env.TEST_DATABASE ?? `flink_orchestrator_test_${process.pid}`;
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const TEST_TOKEN = 'test-token-0123456789abcdef';
export const TEST_READ_TOKEN = 'read-token-0123456789abcdef';
export const REDIS_PREFIX = `fo-test-${randomBytes(4).toString('hex')}`;

export function databaseUrl(name = TEST_DATABASE): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function recreateDatabase(name: string): Promise<void> {
  const admin = new Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
}

export async function dropDatabase(name: string): Promise<void> {
  const admin = new Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

/** Deletes only the keys under this run's prefix. */
export async function deleteRedisKeys(prefix = REDIS_PREFIX): Promise<number> {
  const redis = new IORedis(REDIS_URL);
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}

/** The environment a test process (API or worker) runs with. */
export function testEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl(),
    REDIS_URL,
    QUEUE_PREFIX: REDIS_PREFIX,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    MIGRATE_ON_START: 'false',
    API_TOKENS: `test=${TEST_TOKEN}`,
    API_READ_TOKENS: `reader=${TEST_READ_TOKEN}`,
    PORT: '0',
    // No test delivers a webhook beyond this machine (the default allows hooks.slack.com).
    WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
    ...overrides,
  };
}

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig(testEnv(overrides));
}
