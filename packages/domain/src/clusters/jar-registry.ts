/**
 * Which Flink jar id holds which JAR content on which cluster, so a JAR is uploaded once
 * per cluster (a jar id on one JobManager means nothing to another).
 */
export interface JarRegistry {
  find(cluster: string, sha256: string): Promise<string | null>;
  remember(cluster: string, sha256: string, jarId: string): Promise<void>;
  forget(cluster: string, sha256: string): Promise<void>;
  /** Runs `fn` while no other worker runs it for the same content and cluster. */
  exclusively<T>(cluster: string, sha256: string, fn: () => Promise<T>): Promise<T>;
  /**
   * What `url` served when it last answered with a strong ETag, and the jar id holding that
   * content on `cluster` (null when the cluster has none).
   */
  findSource(cluster: string, url: string): Promise<{ etag: string; sha256: string; jarId: string | null } | null>;
  /** What the data-processor says about a URL holds for every cluster. */
  rememberSource(url: string, etag: string, sha256: string): Promise<void>;
  /**
   * Jar ids, per cluster, whose content no job's latest execution on that cluster uses any
   * more; with `uploadedBefore`, only those uploaded before it.
   */
  unused(uploadedBefore?: Date): Promise<{ cluster: string; sha256: string; jarId: string }[]>;
}
