import type { ClusterRepository, ObservationReport, ObserveCluster } from '@flink-orchestrator/domain';
import { ObserverLeaseLost, PermanentFailure } from '@flink-orchestrator/domain';
import type { Logger } from '@flink-orchestrator/observability';
import type { RedisLease } from '@flink-orchestrator/queue-bullmq';
import { HeldLease } from './held-lease';

export interface ClusterObserversOptions {
  clusters: ClusterRepository;
  lease: RedisLease;
  /**
   * A fresh observer for each time this worker takes a cluster's lease (its memory starts
   * over); it asks `stillHolds` before each write.
   */
  observerFor: (cluster: string, stillHolds: () => boolean) => ObserveCluster;
  pollIntervalMs: number;
  /** How long a lease outlives its holder's last renewal; default three polls, at least 5 s. */
  leaseTtlMs?: number;
  log: Logger;
  /** Called after each tick this worker still held the lease at its end, for metrics. */
  onTick?: (cluster: string, report: ObservationReport, seconds: number) => void;
  /** Called when this worker stops observing a cluster (lease lost or given back): its gauges go. */
  onRelease?: (cluster: string) => void;
}

/** How often the list of clusters is read again (a new cluster is observed within this). */
const CLUSTER_LIST_MS = 5_000;

interface Held {
  observer: ObserveCluster;
  lease: HeldLease;
}

/**
 * One observer per Flink cluster across all workers: every worker runs this loop, and for
 * each cluster the holder of the `observer:<name>` lease ticks while the others try to take
 * it every poll. The holder renews it on a timer (HeldLease), during a tick too, so a slow
 * tick never lets a second observer start; a worker that dies leaves the lease to expire
 * (at most `ttl` + one poll) and another takes over; a clean stop gives it back. A worker
 * that loses a lease drops the cluster at once (its gauges with it), and a tick still in
 * flight then writes nothing more.
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
    // Renewed every third of it, whatever the ticks do: how long a dead worker keeps a cluster.
    this.ttlMs = options.leaseTtlMs ?? Math.max(3 * options.pollIntervalMs, 5_000);
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
    await Promise.allSettled([...this.held.keys()].map((name) => this.giveUp(name)));
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
    const { log } = this.options;
    let held = this.held.get(name);
    try {
      if (held && !held.lease.holds()) {
        await this.drop(name, held, 'observer lease expired (not renewed in time)');
        held = undefined;
      }
      if (!held) {
        held = await this.take(name);
        if (!held) return;
      }
      const started = process.hrtime.bigint();
      const report = await held.observer.tick();
      // Lost while the tick ran: its figures are the new holder's to give.
      if (this.held.get(name) !== held || !held.lease.holds()) return;
      this.options.onTick?.(name, report, Number(process.hrtime.bigint() - started) / 1e9);
    } catch (error) {
      if (error instanceof ObserverLeaseLost) {
        if (held) await this.drop(name, held, 'observer lease lost during a tick; it wrote nothing more');
        return;
      }
      if (error instanceof PermanentFailure) {
        // Deleted from the registry meanwhile: nothing to observe.
        await this.giveUp(name);
        return;
      }
      // Redis or PostgreSQL gone for a moment: the next round tries again.
      log.warn({ err: error, cluster: name }, 'cluster observation failed');
    }
  }

  private async take(name: string): Promise<Held | undefined> {
    // Set once the lease is taken; a loss is reported only later, by the renewal timer.
    const taken: { held?: Held } = {};
    const lease = await HeldLease.take(this.options.lease, leaseName(name), this.ttlMs, (reason, error) => {
      const why = reason === 'taken' ? 'observer lease lost to another worker' : 'observer lease expired';
      if (taken.held) void this.drop(name, taken.held, why, error);
    });
    if (!lease) return undefined;
    if (this.stopped) {
      await lease.release();
      return undefined;
    }
    const held = { lease, observer: this.options.observerFor(name, () => lease.holds()) };
    taken.held = held;
    this.held.set(name, held);
    this.options.log.info({ cluster: name }, 'observing cluster');
    return held;
  }

  /** Stops observing `name` if `held` is still how this worker observes it. */
  private async drop(name: string, held: Held, why: string, error?: unknown): Promise<void> {
    if (this.held.get(name) !== held) return;
    this.held.delete(name);
    this.options.onRelease?.(name);
    this.options.log.info({ cluster: name, ...(error ? { err: error } : {}) }, why);
    // Compare-and-delete: gives back a key still ours (expired here, not yet in Redis), else nothing.
    await held.lease.release().catch(() => undefined);
  }

  private async giveUp(name: string): Promise<void> {
    const held = this.held.get(name);
    if (!held) return;
    this.held.delete(name);
    this.options.onRelease?.(name);
    await held.lease.release().catch(() => undefined);
  }
}

const leaseName = (cluster: string) => `observer:${cluster}`;
