import type { RedisLease } from '@flink-orchestrator/queue-bullmq';

/**
 * A lease while this worker holds it, renewed by a timer every third of its TTL, during a
 * tick too: a tick however long (a slow Flink, each call up to its timeout) keeps it as
 * long as Redis answers, so no second observer starts meanwhile.
 *
 * `holds()` is what the observer asks before each write. It turns false when a renewal
 * finds another owner, and when the TTL runs out after the last renewal that succeeded
 * (Redis away: the key may have expired and gone to another worker). Either way `onLost`
 * is told once.
 */
export class HeldLease {
  private validUntil: number;
  private lost = false;
  private renewing = false;
  private readonly timer: NodeJS.Timeout;

  private constructor(
    private readonly lease: RedisLease,
    private readonly name: string,
    private readonly ttlMs: number,
    sentAt: number,
    private readonly onLost: (reason: 'taken' | 'expired', error?: unknown) => void,
  ) {
    this.validUntil = expiry(sentAt, ttlMs);
    this.timer = setInterval(() => this.beat(), Math.max(1, Math.floor(ttlMs / 3)));
    this.timer.unref();
  }

  /** The lease if this worker got it; null when another holds it. */
  static async take(
    lease: RedisLease,
    name: string,
    ttlMs: number,
    onLost: (reason: 'taken' | 'expired', error?: unknown) => void,
  ): Promise<HeldLease | null> {
    const sentAt = performance.now();
    if (!(await lease.tryAcquire(name, ttlMs))) return null;
    return new HeldLease(lease, name, ttlMs, sentAt, onLost);
  }

  holds(): boolean {
    return !this.lost && performance.now() < this.validUntil;
  }

  /** Stops renewing and gives the lease back if it is still this worker's. */
  async release(): Promise<void> {
    this.lost = true;
    clearInterval(this.timer);
    await this.lease.release(this.name);
  }

  private beat(): void {
    // A renewal that hangs (Redis unreachable) must not keep a lease that ran out.
    if (!this.holds()) this.lose('expired');
    else if (!this.renewing) void this.renew();
  }

  private async renew(): Promise<void> {
    this.renewing = true;
    // Measured from before the call: Redis starts the TTL later, so this errs on the safe side.
    const sentAt = performance.now();
    try {
      if (await this.lease.renew(this.name, this.ttlMs)) this.validUntil = expiry(sentAt, this.ttlMs);
      else this.lose('taken');
    } catch (error) {
      if (!this.holds()) this.lose('expired', error);
    } finally {
      this.renewing = false;
    }
  }

  private lose(reason: 'taken' | 'expired', error?: unknown): void {
    if (this.lost) return;
    this.lost = true;
    clearInterval(this.timer);
    this.onLost(reason, error);
  }
}

/** A sixth of the TTL short of it: room for clock drift and for a write already on its way. */
const expiry = (sentAt: number, ttlMs: number) => sentAt + ttlMs - ttlMs / 6;
