import type { Clock } from '../shared/clock';
import type { ClusterGateway } from './flink-clusters';
import type { FetchedJar, JarSource } from './jar-source';
import type { JarRegistry } from './jar-registry';
import type { Logger } from '../shared/logger';

export interface UploadedJar {
  jarId: string;
  sha256: string;
  /** Flink already held this content. */
  reused: boolean;
  /** The data-processor said the JAR had not changed (304), so no byte was downloaded. */
  notModified: boolean;
  /** Answered from what this worker learnt a few seconds ago: no request at all. */
  cached: boolean;
}

/** How long a worker trusts what it learnt of a JAR on a cluster before asking again (0: never). */
export interface JarReuse {
  forMs: number;
  clock: Clock;
}

// Expired answers are swept once the map holds this many, so it stays small.
const SWEEP_AT = 1000;

/**
 * Gets a JAR onto Flink once per content. When the data-processor gave a strong ETag
 * last time, the download is conditional: an unchanged JAR that Flink still lists costs
 * one small request. Otherwise the JAR is downloaded (hashed as it streams), the Flink
 * jar id holding the same SHA-256 is reused while Flink still lists it, and it is
 * uploaded otherwise (a JobManager restart loses uploaded jars). All of it per cluster: a JAR
 * on one cluster is uploaded again for another.
 */
export class EnsureJarOnFlink {
  private readonly recent = new Map<string, { jar: UploadedJar; until: number }>();
  /** Ensures under way, by cluster and URL: a burst of starts of one JAR waits for the first. */
  private readonly underWay = new Map<string, Promise<UploadedJar>>();

  constructor(
    private readonly source: JarSource,
    private readonly registry: JarRegistry,
    private readonly log: Logger,
    private readonly reuse: JarReuse | null = null,
  ) {}

  /**
   * A JAR ensured on a cluster less than `reuse.forMs` ago is taken as still there and
   * unchanged, and starts that come while it is being ensured wait for that one: a burst of
   * starts of one JAR makes one round of requests, not one each. Were it gone meanwhile, the
   * run fails as transient and `forget` makes the retry ask again.
   */
  async ensure(url: string, target: ClusterGateway): Promise<UploadedJar> {
    if (!this.reuse) return this.ensureNow(url, target);
    const key = `${target.cluster}\n${url}`;
    const now = this.reuse.clock.now().getTime();
    const known = this.recent.get(key);
    if (known && known.until > now) return { ...known.jar, cached: true };
    const pending = this.underWay.get(key);
    if (pending) return { ...(await pending), cached: true };
    const ensuring = this.ensureNow(url, target);
    this.underWay.set(key, ensuring);
    try {
      const jar = await ensuring;
      if (this.recent.size >= SWEEP_AT) for (const [k, v] of this.recent) if (v.until <= now) this.recent.delete(k);
      this.recent.set(key, { jar, until: now + this.reuse.forMs });
      return jar;
    } finally {
      this.underWay.delete(key);
    }
  }

  /** Drops what is remembered of the cluster's JARs: a run there failed, so ask again. */
  forget(cluster: string): void {
    for (const key of this.recent.keys()) if (key.startsWith(`${cluster}\n`)) this.recent.delete(key);
  }

  private async ensureNow(url: string, target: ClusterGateway): Promise<UploadedJar> {
    const known = await this.registry.findSource(target.cluster, url);
    if (known) {
      const answer = await this.source.fetch(url, known.etag);
      if (answer !== 'not-modified') return this.ensureOnFlink(url, answer, target);
      if (known.jarId && (await target.flink.listJarIds()).has(known.jarId))
        return { jarId: known.jarId, sha256: known.sha256, reused: true, notModified: true, cached: false };
      // Unchanged, but this cluster lost it (or never had it): the bytes are needed after all.
    }
    return this.ensureOnFlink(url, await this.source.fetch(url), target);
  }

  private async ensureOnFlink(url: string, jar: FetchedJar, target: ClusterGateway): Promise<UploadedJar> {
    const { cluster, flink } = target;
    try {
      // Fast path without the lock: the common case (a JAR already on Flink) must not
      // serialise every submission of the same JAR across all workers.
      const uploaded =
        (await this.reusable(jar.sha256, target)) ??
        (await this.registry.exclusively(cluster, jar.sha256, async () => {
          // Checked again under the lock: another worker may have uploaded it meanwhile.
          const known = await this.reusable(jar.sha256, target);
          if (known) return known;
          const jarId = await flink.uploadJar(jar);
          await this.registry.remember(cluster, jar.sha256, jarId);
          this.log.info({ jarId, sha256: jar.sha256, bytes: jar.size, cluster }, 'jar uploaded to Flink');
          return { jarId, sha256: jar.sha256, reused: false };
        }));
      if (jar.etag) await this.registry.rememberSource(url, jar.etag, jar.sha256);
      return { ...uploaded, notModified: false, cached: false };
    } finally {
      await jar.dispose();
    }
  }

  private async reusable(
    sha256: string,
    { cluster, flink }: ClusterGateway,
  ): Promise<Omit<UploadedJar, 'notModified' | 'cached'> | null> {
    const known = await this.registry.find(cluster, sha256);
    if (known && (await flink.listJarIds()).has(known)) return { jarId: known, sha256, reused: true };
    return null;
  }
}
