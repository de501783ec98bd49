import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

type Route = (req: http.IncomingMessage, res: http.ServerResponse) => void | Promise<void>;

/**
 * Stands in for the data-processor service: serves JAR files over HTTP, plus whatever
 * misbehaviour a test installs (404, slowness, a non-JAR answer).
 */
export class DataProcessor {
  private readonly routes = new Map<string, Route>();
  private server: Server | null = null;
  readonly hits = new Map<string, number>();
  url = '';

  /** Counts per path of the answers that carried the JAR's bytes (not a 304). */
  readonly downloads = new Map<string, number>();

  serveJar(
    path: string,
    bytes: Buffer,
    options: {
      delayMs?: number;
      chunkDelayMs?: number;
      etag?: string;
      /** Sends the headers and half the body, then waits for `gate.pass(path)` before the rest. */
      gate?: { pass(what: string): Promise<void> };
    } = {},
  ): string {
    this.routes.set(path, async (req, res) => {
      if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
      const etag = options.etag ? { etag: options.etag } : {};
      if (options.etag && req.headers['if-none-match'] === options.etag) return void res.writeHead(304, etag).end();
      this.downloads.set(path, (this.downloads.get(path) ?? 0) + 1);
      res.writeHead(200, { 'content-type': 'application/java-archive', 'content-length': bytes.length, ...etag });
      if (options.gate) {
        const half = Math.floor(bytes.length / 2);
        res.write(bytes.subarray(0, half));
        await options.gate.pass(path);
        if (res.destroyed) return;
        return void res.end(bytes.subarray(half));
      }
      if (!options.chunkDelayMs) return void res.end(bytes);
      // Trickle the body so a test can act (kill a worker) mid-download.
      const chunk = Math.ceil(bytes.length / 20);
      for (let i = 0; i < bytes.length; i += chunk) {
        if (res.destroyed) return;
        res.write(bytes.subarray(i, i + chunk));
        await new Promise((r) => setTimeout(r, options.chunkDelayMs));
      }
      res.end();
    });
    return this.urlOf(path);
  }

  route(path: string, handler: Route): string {
    this.routes.set(path, handler);
    return this.urlOf(path);
  }

  urlOf(path: string): string {
    return `${this.url}${path}`;
  }

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0] as string;
      this.hits.set(path, (this.hits.get(path) ?? 0) + 1);
      const route = this.routes.get(path);
      if (!route) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end(`no file at ${path}`);
        return;
      }
      Promise.resolve(route(req, res)).catch(() => res.destroy());
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}
