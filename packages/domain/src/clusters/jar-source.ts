import type { LocalJar } from './flink-gateway';

export interface FetchedJar extends LocalJar {
  /** The server's strong ETag, if it gave one: the next fetch can be conditional. */
  etag: string | null;
  dispose(): Promise<void>;
}

/** Downloads a JAR to a local file, hashing it as it flows. */
export interface JarSource {
  fetch(url: string): Promise<FetchedJar>;
  /** Conditional: answers 'not-modified' instead of the bytes when the server says 304. */
  fetch(url: string, ifNoneMatch: string): Promise<FetchedJar | 'not-modified'>;
}
