import type { ClusterGateway } from '../ports/flink-clusters';
import type { FetchedJar, JarSource } from '../ports/jar-source';
import type { JarRegistry } from '../ports/jar-registry';
import type { Logger } from '../ports/logger';

export interface UploadedJar {
  jarId: string;
  sha256: string;
  /** Flink already held this content. */
  reused: boolean;
  /** The data-processor said the JAR had not changed (304), so no byte was downloaded. */
  notModified: boolean;
}

/**
 * Gets a JAR onto Flink once per content. When the data-processor gave a strong ETag
 * last time, the download is conditional: an unchanged JAR that Flink still lists costs
 * one small request. Otherwise the JAR is downloaded (hashed as it streams), the Flink
 * jar id holding the same SHA-256 is reused while Flink still lists it, and it is
 * uploaded otherwise (a JobManager restart loses uploaded jars). All of it per cluster: a JAR
 * on one cluster is uploaded again for another.
 */
export class EnsureJarOnFlink {
  constructor(
    private readonly source: JarSource,
    private readonly registry: JarRegistry,
    private readonly log: Logger,
  ) {}

  async ensure(url: string, target: ClusterGateway): Promise<UploadedJar> {
    const known = await this.registry.findSource(target.cluster, url);
    if (known) {
      const answer = await this.source.fetch(url, known.etag);
      if (answer !== 'not-modified') return this.ensureOnFlink(url, answer, target);
      if (known.jarId && (await target.flink.listJarIds()).has(known.jarId))
        return { jarId: known.jarId, sha256: known.sha256, reused: true, notModified: true };
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
      return { ...uploaded, notModified: false };
    } finally {
      await jar.dispose();
    }
  }

  private async reusable(
    sha256: string,
    { cluster, flink }: ClusterGateway,
  ): Promise<Omit<UploadedJar, 'notModified'> | null> {
    const known = await this.registry.find(cluster, sha256);
    if (known && (await flink.listJarIds()).has(known)) return { jarId: known, sha256, reused: true };
    return null;
  }
}
