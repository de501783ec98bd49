import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PermanentFailure, TransientFailure, type FetchedJar, type JarSource } from '@flink-orchestrator/domain';
import axios, { isAxiosError } from 'axios';
import { permanentCause, type OutboundUrlPolicy } from '@flink-orchestrator/outbound-http';

export interface JarSourceOptions {
  maxBytes: number;
  timeoutMs: number;
  /** Where downloads are spooled; one file per download, removed after the upload. */
  spoolDir?: string;
  /** Which hosts and addresses may be fetched (SSRF guard). */
  policy?: OutboundUrlPolicy;
}

const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);

/**
 * Streams a JAR over HTTP into a spool file, never holding it in memory, checking its
 * size and its first bytes (a JAR is a zip) and computing its SHA-256 on the way.
 */
export class HttpJarSource implements JarSource {
  constructor(private readonly options: JarSourceOptions) {}

  fetch(url: string): Promise<FetchedJar>;
  fetch(url: string, ifNoneMatch: string): Promise<FetchedJar | 'not-modified'>;
  async fetch(url: string, ifNoneMatch?: string): Promise<FetchedJar | 'not-modified'> {
    const spoolDir = this.options.spoolDir ?? path.join(tmpdir(), 'flink-orchestrator-jars');
    const file = path.join(spoolDir, `${randomUUID()}.jar`);
    const dispose = () => rm(file, { force: true });
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), this.options.timeoutMs);
    try {
      const parsed = new URL(url);
      const policy = this.options.policy;
      policy?.checkUrl(parsed);
      const res = await axios.get<Readable>(url, {
        responseType: 'stream',
        signal: abort.signal,
        maxRedirects: 5,
        validateStatus: () => true,
        decompress: true,
        ...(ifNoneMatch ? { headers: { 'If-None-Match': ifNoneMatch } } : {}),
        // Every hop of a redirect chain must be allowed too.
        ...(policy ? policy.requestOptions() : {}),
      });
      if (res.status === 304 && ifNoneMatch) {
        res.data.destroy();
        return 'not-modified';
      }
      if (res.status !== 200) {
        res.data.destroy();
        const answer = `the data-processor answered HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''} for ${url}`;
        if (res.status >= 500 || res.status === 408 || res.status === 429)
          throw new TransientFailure(`JAR download failed: ${answer}.`);
        throw new PermanentFailure(`JAR download failed: ${answer}.`);
      }
      const declared = Number(res.headers['content-length'] ?? NaN);
      if (declared > this.options.maxBytes) {
        res.data.destroy();
        throw new PermanentFailure(
          `JAR at ${url} is ${declared} bytes, over the ${this.options.maxBytes}-byte limit (JAR_MAX_BYTES).`,
        );
      }
      await mkdir(spoolDir, { recursive: true });
      const inspector = new JarInspector(url, this.options.maxBytes, String(res.headers['content-type'] ?? ''));
      await pipeline(res.data, inspector, createWriteStream(file));
      return {
        path: file,
        fileName: jarFileName(parsed),
        size: inspector.size,
        sha256: inspector.sha256(),
        etag: strongEtag(res.headers['etag']),
        dispose,
      };
    } catch (error) {
      await dispose();
      if (error instanceof PermanentFailure || error instanceof TransientFailure) throw error;
      const refusal = permanentCause(error);
      if (refusal) throw refusal;
      if (abort.signal.aborted)
        throw new TransientFailure(`JAR download from ${url} took longer than ${this.options.timeoutMs} ms.`);
      if (error instanceof TypeError && /Invalid URL/.test(error.message))
        throw new PermanentFailure(`"${url}" is not a valid URL.`);
      const code = isAxiosError(error) ? (error.code ?? error.message) : (error as Error).message;
      throw new TransientFailure(`JAR download from ${url} failed: ${code}.`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Counts, hashes and checks the bytes as they pass. */
class JarInspector extends Transform {
  size = 0;
  private readonly hash = createHash('sha256');
  private head = Buffer.alloc(0);

  constructor(
    private readonly url: string,
    private readonly maxBytes: number,
    private readonly contentType: string,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.maxBytes) {
      done(new PermanentFailure(`JAR at ${this.url} is over the ${this.maxBytes}-byte limit (JAR_MAX_BYTES).`));
      return;
    }
    if (this.head.length < ZIP_MAGIC.length) {
      this.head = Buffer.concat([this.head, chunk.subarray(0, ZIP_MAGIC.length - this.head.length)]);
      if (this.head.length >= ZIP_MAGIC.length && !this.head.equals(ZIP_MAGIC)) {
        done(
          new PermanentFailure(
            `${this.url} did not answer with a JAR (content-type "${this.contentType || 'none'}", not a zip archive).`,
          ),
        );
        return;
      }
    }
    this.hash.update(chunk);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.head.length < ZIP_MAGIC.length) {
      done(new PermanentFailure(`${this.url} answered ${this.size} bytes, which is not a JAR.`));
      return;
    }
    done();
  }

  sha256(): string {
    return this.hash.digest('hex');
  }
}

/** A weak ETag promises equivalent content, not the same bytes: not enough to skip a JAR. */
function strongEtag(header: unknown): string | null {
  return typeof header === 'string' && header.startsWith('"') ? header : null;
}

function jarFileName(url: URL): string {
  const last = decodeURIComponent(url.pathname.split('/').pop() ?? '');
  const safe = last.replace(/[^A-Za-z0-9._-]/g, '_');
  return safe.endsWith('.jar') ? safe : `${safe || 'job'}.jar`;
}
