/** Which Flink jar id holds which JAR content, so a JAR is uploaded once. */
export interface JarRegistry {
  find(sha256: string): Promise<string | null>;
  remember(sha256: string, jarId: string): Promise<void>;
  forget(sha256: string): Promise<void>;
  /** Runs `fn` while no other worker runs it for the same content. */
  exclusively<T>(sha256: string, fn: () => Promise<T>): Promise<T>;
  /** What `url` served when it last answered with a strong ETag, and the Flink jar id holding that content. */
  findSource(url: string): Promise<{ etag: string; sha256: string; jarId: string | null } | null>;
  rememberSource(url: string, etag: string, sha256: string): Promise<void>;
  /** Jar ids whose content no job's latest execution uses any more. */
  unused(): Promise<{ sha256: string; jarId: string }[]>;
}
