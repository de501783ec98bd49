import type { ClusterRepository, ObservationReport, ObserveCluster } from '@flink-orchestrator/domain';
import { PermanentFailure } from '@flink-orchestrator/domain';
import type { Logger } from '@flink-orchestrator/observability';
import type { RedisLease } from '@flink-orchestrator/queue-bullmq';

export interface ClusterObserversOptions {
  clusters: ClusterRepository;
  lease: RedisLease;
  /** A fresh observer for each time this worker takes a cluster's lease (its memory starts over). */
  observerFor: (cluster: string) => ObserveCluster;
  pollIntervalMs: number;
  log: Logger;
  /** Called after each tick, for metrics. */
  onTick?: (cluster: string, report: ObservationReport, seconds: number) => void;
}

/** How often the list of clusters is read again (a new cluster is observed within this). */
const CLUSTER_LIST_MS = 5_000;

interface Held {
  observer: ObserveCluster;
}

/**
 * One observer per Flink cluster across all workers: every worker runs this loop, and for
 * each cluster the holder of the `observer:<name>` lease ticks while the others try to take
 * it every poll. The holder renews before each tick, so a worker that dies leaves the lease
 * to expire (at most `ttl` + one poll) and another takes over; a clean stop gives it back.
 */
export class ClusterObservers {
  private readonly held = new Map<string, Held>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private names: string[] = [];
  private listedAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  readonly ttlMs: number;

  constructor(private readonly options: ClusterObserversOptions) {
    // Renewed every poll: three polls of slack before another worker may take over.
    this.ttlMs = Math.max(3 * options.pollIntervalMs, 5_000);
  }

  start(): void {
    const loop = () => {
      if (this.stopped) return;
      void this.round().finally(() => {
        if (!this.stopped) this.timer = setTimeout(loop, this.options.pollIntervalMs);
      });
    };
    loop();
  }

  /** Finishes the ticks in flight, then gives every lease back. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.allSettled([...this.inFlight.values()]);
    await Promise.allSettled([...this.held.keys()].map((name) => this.options.lease.release(leaseName(name))));
    this.held.clear();
  }

  /** The clusters this worker observes now. */
  observing(): string[] {
    return [...this.held.keys()];
  }

  private async round(): Promise<void> {
    try {
      await this.refreshNames();
    } catch (error) {
      this.options.log.warn({ err: error }, 'cluster list not read; observing the clusters known before');
    }
    for (const name of this.names) {
      // A slow tick (Flink timing out) never runs twice at once; the next round tries again.
      if (this.inFlight.has(name)) continue;
      const tick = this.observe(name).finally(() => this.inFlight.delete(name));
      this.inFlight.set(name, tick);
    }
  }

  private async refreshNames(): Promise<void> {
    if (Date.now() - this.listedAt < CLUSTER_LIST_MS) return;
    const names: string[] = [];
    for (let after: { createdAt: Date; id: string } | undefined; ;) {
      const page = await this.options.clusters.list({ limit: 500, ...(after ? { after } : {}) });
      names.push(...page.map((cluster) => cluster.name));
      const last = page.at(-1);
      if (page.length < 500 || !last) break;
      after = { createdAt: last.createdAt, id: last.id };
    }
    this.names = names;
    this.listedAt = Date.now();
    for (const name of this.held.keys()) {
      if (!names.includes(name)) await this.giveUp(name);
    }
  }

  private async observe(name: string): Promise<void> {
    const { lease, log } = this.options;
    try {
      const key = leaseName(name);
      let held = this.held.get(name);
      if (held && !(await lease.renew(key, this.ttlMs))) {
        log.info({ cluster: name }, 'observer lease lost to another worker');
        this.held.delete(name);
        held = undefined;
      }
      if (!held) {
        if (!(await lease.tryAcquire(key, this.ttlMs))) return;
        held = { observer: this.options.observerFor(name) };
        this.held.set(name, held);
        log.info({ cluster: name }, 'observing cluster');
      }
      const started = process.hrtime.bigint();
      const report = await held.observer.tick();
      this.options.onTick?.(name, report, Number(process.hrtime.bigint() - started) / 1e9);
    } catch (error) {
      if (error instanceof PermanentFailure) {
        // Deleted from the registry meanwhile: nothing to observe.
        await this.giveUp(name);
        return;
      }
      // Redis or PostgreSQL gone for a moment: the next round tries again.
      log.warn({ err: error, cluster: name }, 'cluster observation failed');
    }
  }

  private async giveUp(name: string): Promise<void> {
    if (!this.held.delete(name)) return;
    await this.options.lease.release(leaseName(name)).catch(() => undefined);
  }
}

const leaseName = (cluster: string) => `observer:${cluster}`;
