import { redactUrl, type Logger } from './logger';

export type Reachability = 'unknown' | 'ok' | 'unreachable';

/**
 * A dependency's reachability, logged once per change: one warning line (no stack) when it
 * goes away, one info line when it is back. A service left without Flink stays readable.
 */
export class ReachabilityLog {
  private current: Reachability = 'unknown';
  private changedAt = new Date();

  constructor(
    private readonly log: Logger,
    private readonly dependency: string,
    private readonly url: string,
  ) {}

  observe(reachable: boolean, reason?: string): void {
    const next: Reachability = reachable ? 'ok' : 'unreachable';
    if (next === this.current) return;
    const was = this.current;
    this.current = next;
    this.changedAt = new Date();
    const fields = { dependency: this.dependency, url: redactUrl(this.url) };
    if (next === 'unreachable')
      this.log.warn({ ...fields, ...(reason ? { reason } : {}) }, `${this.dependency} is unreachable`);
    else if (was === 'unreachable') this.log.info(fields, `${this.dependency} is reachable again`);
  }

  get state(): { state: Reachability; since: Date } {
    return { state: this.current, since: this.changedAt };
  }
}
