import { randomUUID } from 'node:crypto';
import type { RedisClient } from './connection';

/**
 * A lease in Redis: periodic chores (reconciliation, garbage collection) run in one
 * worker per period however many workers there are, and one worker observes each Flink
 * cluster. Losing the lease is harmless: every chore and observation is idempotent.
 */
export class RedisLease {
  private readonly owner = randomUUID();

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  async tryAcquire(name: string, ttlMs: number): Promise<boolean> {
    const result = await this.redis.set(`${this.prefix}:lease:${name}`, this.owner, 'PX', ttlMs, 'NX');
    return result === 'OK';
  }

  /** Extends the lease if this process still holds it (compare-and-expire); false when it was lost. */
  async renew(name: string, ttlMs: number): Promise<boolean> {
    const result = await this.redis.eval(RENEW, 1, `${this.prefix}:lease:${name}`, this.owner, ttlMs);
    return result === 1;
  }

  /**
   * Gives the lease back if this process still holds it (compare-and-delete in one script),
   * so a worker that shuts down does not keep the chores from others until the TTL ends.
   */
  async release(name: string): Promise<void> {
    await this.redis.eval(RELEASE, 1, `${this.prefix}:lease:${name}`, this.owner);
  }
}

const RENEW =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
