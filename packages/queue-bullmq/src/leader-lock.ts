import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * A lease in Redis: periodic chores (reconciliation, garbage collection) run in one
 * worker per period however many workers there are. Losing the lease is harmless:
 * every chore is idempotent.
 */
export class RedisLease {
  private readonly owner = randomUUID();

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async tryAcquire(name: string, ttlMs: number): Promise<boolean> {
    const result = await this.redis.set(`${this.prefix}:lease:${name}`, this.owner, 'PX', ttlMs, 'NX');
    return result === 'OK';
  }
}
