import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a server (Redis), to take it away from its clients without
 * touching it. `deafen()`: requests still reach the server, its answers are dropped, as when
 * a link fails after the request went out; `restore()` cuts every connection (their answers
 * are out of step now) and passes everything again, so the clients reconnect.
 */
export class TcpProxy {
  private server: Server | null = null;
  private readonly links = new Set<Socket>();
  private deaf = false;

  constructor(private readonly target: { host: string; port: number }) {}

  async start(): Promise<this> {
    const server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      for (const socket of [client, upstream]) {
        this.links.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => {
          this.links.delete(socket);
          client.destroy();
          upstream.destroy();
        });
      }
      client.on('data', (chunk) => upstream.write(chunk));
      upstream.on('data', (chunk) => {
        if (!this.deaf) client.write(chunk);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    return this;
  }

  get url(): string {
    return `redis://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  /** The server's answers go nowhere from now on; what the clients send still reaches it. */
  deafen(): void {
    this.deaf = true;
  }

  /** Every connection cut, and the answers pass again on the ones the clients make next. */
  restore(): void {
    for (const socket of this.links) socket.destroy();
    this.deaf = false;
  }

  async stop(): Promise<void> {
    for (const socket of this.links) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = null;
  }
}
