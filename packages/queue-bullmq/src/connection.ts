import IORedis, { type Redis, type RedisOptions } from 'ioredis';

export interface RedisSettings {
  url: string;
  /** Namespaces every key, so deployments and test runs can share one Redis. */
  prefix: string;
}

/**
 * Producers fail fast while Redis is down (no offline queue), so the API can answer 503
 * at once. Workers block on Redis and must retry forever (`maxRetriesPerRequest: null`,
 * as BullMQ requires).
 */
export function redisConnection(url: string, role: 'producer' | 'worker'): Redis {
  const options: RedisOptions =
    role === 'producer'
      ? { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000, commandTimeout: 5000 }
      : { maxRetriesPerRequest: null, connectTimeout: 5000 };
  const redis = new IORedis(url, { ...options, retryStrategy: (times) => Math.min(times * 200, 2000) });
  // Connection errors surface through the commands that fail; an unhandled 'error' event would crash.
  redis.on('error', () => undefined);
  return redis;
}

export async function pingRedis(redis: Redis, waitMs = 1000): Promise<void> {
  if (redis.status !== 'ready') {
    // A connection still (re)connecting gets a moment before we call Redis down.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis connection is ${redis.status}`)), waitMs);
      redis.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
  await redis.ping();
}
