import IORedis, { Cluster, type Redis, type RedisOptions } from 'ioredis';

/** One Redis, or a Redis Cluster: BullMQ and the lease work on either. */
export type RedisClient = Redis | Cluster;

export interface RedisSettings {
  url: string;
  /** Namespaces every key, so deployments and test runs can share one Redis. */
  prefix: string;
}

export interface RedisNode {
  host: string;
  port: number;
}

/**
 * Producers fail fast while Redis is down (no offline queue), so the API can answer 503
 * at once. Workers block on Redis and must retry forever (`maxRetriesPerRequest: null`,
 * as BullMQ requires). With `clusterNodes`, the connection is to a Redis Cluster found from
 * those nodes; `url` then only lends its password and TLS setting.
 */
export function redisConnection(url: string, role: 'producer' | 'worker', clusterNodes?: RedisNode[]): RedisClient {
  const options: RedisOptions =
    role === 'producer'
      ? { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000, commandTimeout: 5000 }
      : { maxRetriesPerRequest: null, connectTimeout: 5000 };
  const retryStrategy = (times: number) => Math.min(times * 200, 2000);
  const redis: RedisClient = clusterNodes?.length
    ? new Cluster(clusterNodes, {
        redisOptions: { ...options, ...credentialsOf(url) },
        enableOfflineQueue: options.enableOfflineQueue ?? true,
        clusterRetryStrategy: retryStrategy,
      })
    : new IORedis(url, { ...options, retryStrategy });
  // Connection errors surface through the commands that fail; an unhandled 'error' event would crash.
  redis.on('error', () => undefined);
  return redis;
}

function credentialsOf(url: string): RedisOptions {
  const parsed = new URL(url);
  return {
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

export async function pingRedis(redis: RedisClient, waitMs = 1000): Promise<void> {
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
