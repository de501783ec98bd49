import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Gate } from './gate';

export interface ReceivedDelivery {
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * A webhook receiver on one port that can go down (connections refused) and come back on
 * the same port, recording every request it received. `holdAnswers` keeps its answers back
 * (each request recorded as it arrives): a receiver that got a delivery whose sender has
 * not heard yet.
 */
export class WebhookReceiver {
  received: ReceivedDelivery[] = [];
  /** What it answers while up. */
  status = 204;
  private server: Server | null = null;
  private port = 0;
  private held: Gate | null = null;

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        const answer = () => {
          res.statusCode = this.status;
          res.end();
        };
        if (this.held) void this.held.pass().then(answer);
        else answer();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  /**
   * From now on, answers wait until `release()` (then every held one is sent, to whoever is
   * still connected); `waiting` counts the requests held.
   */
  holdAnswers(): { waiting: () => number; release: () => void } {
    const gate = new Gate();
    this.held = gate;
    return {
      waiting: () => gate.held.length,
      release: () => {
        if (this.held === gate) this.held = null;
        gate.open();
      },
    };
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  /** Down: the port refuses connections until `start()` again. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The events received, parsed, each once (delivery is at least once). */
  events(): {
    id: string;
    type: string;
    jobId: string | null;
    executionId?: string | null;
    data: Record<string, unknown>;
  }[] {
    const byId = new Map<
      string,
      { id: string; type: string; jobId: string | null; executionId?: string | null; data: Record<string, unknown> }
    >();
    for (const r of this.received) {
      const event = JSON.parse(r.body) as {
        id: string;
        type: string;
        jobId: string | null;
        executionId?: string | null;
        data: Record<string, unknown>;
      };
      byId.set(event.id, event);
    }
    return [...byId.values()];
  }
}
