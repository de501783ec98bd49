import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RunRequestFact } from './integrity';

const RUN = /^(?:\/v1)?\/jars\/[^/]+\/run$/;
const DUPLICATE = /Duplicate(Job|Application)SubmissionException|has already been submitted/;

/**
 * A tiny HTTP proxy between the workers and a real Flink: everything is passed through, and
 * each POST /jars/:id/run is recorded like the test double records it (JobID, status,
 * outcome, whether the answer reached the worker). `setRunAnswerHook` holds Flink's answer
 * to a run request before relaying it: the worker can be killed after Flink took the job
 * and before the worker heard, which no gate inside a real Flink allows.
 *
 * For any path: `refuse` answers it with an error status without asking Flink (a proxy that
 * lets only some routes through), `hold` keeps Flink's answer until released (a slow Flink).
 */
export class FlinkProxy {
  readonly runRequests: (RunRequestFact & { jarPath: string })[] = [];
  url = '';
  private server: Server | null = null;
  private answerHook: ((jobId: string) => Promise<void>) | null = null;
  private readonly refusals = new Map<string, { status: number; count: number }>();
  private readonly holds = new Map<string, HeldAnswers>();

  constructor(private readonly target: string) {}

  setRunAnswerHook(fn: ((jobId: string) => Promise<void>) | null): void {
    this.answerHook = fn;
  }

  /** Answers `path` (without /v1) with `status` from now on, until allow(path); Flink never sees it. */
  refuse(path: string, status: number): void {
    this.refusals.set(path, { status, count: 0 });
  }

  allow(path: string): void {
    this.refusals.delete(path);
  }

  /** How many requests for `path` were refused. */
  refusedCount(path: string): number {
    return this.refusals.get(path)?.count ?? 0;
  }

  /** Holds Flink's answers to `path` (without /v1) until the handle's release(); one hold per path. */
  hold(path: string): HeldAnswers {
    const held: HeldAnswers = new HeldAnswers(() => {
      if (this.holds.get(path) === held) this.holds.delete(path);
    });
    this.holds.set(path, held);
    return held;
  }

  runRequestsFor(jobId: string): (RunRequestFact & { jarPath: string })[] {
    return this.runRequests.filter((r) => r.jobId === jobId);
  }

  async start(): Promise<string> {
    const server = http.createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0] as string;
      const refusal = this.refusals.get(path.replace(/^\/v1(?=\/)/, ''));
      if (refusal) {
        refusal.count++;
        req.resume();
        res.writeHead(refusal.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [`refused by the proxy: ${path}`] }));
        return;
      }
      const handled = req.method === 'POST' && RUN.test(path) ? this.run(req, res, path) : this.pass(req, res);
      handled.catch(() => res.destroy());
    });
    this.server = server;
    // Port 0: the kernel picks a free port and the proxy reads which, so nothing can take it meanwhile.
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  private forward(req: IncomingMessage, body?: Buffer): Promise<IncomingMessage> {
    const target = new URL(req.url ?? '/', this.target);
    return new Promise((resolve, reject) => {
      const headers = { ...req.headers, host: target.host };
      if (body) headers['content-length'] = String(body.length);
      const upstream = http.request(target, { method: req.method, headers }, resolve);
      upstream.on('error', reject);
      if (body) upstream.end(body);
      else req.pipe(upstream);
    });
  }

  private async pass(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const held = this.holds.get((req.url ?? '/').split('?')[0]?.replace(/^\/v1(?=\/)/, '') ?? '');
    const answer = await this.forward(req);
    if (held) await held.wait();
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  }

  private async run(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const record: RunRequestFact & { jarPath: string } = {
      jarPath: path,
      jobId: null,
      at: Date.now(),
      status: null,
      outcome: null,
      delivered: null,
    };
    this.runRequests.push(record);
    const body = await readAll(req);
    try {
      const jobId = (JSON.parse(body.toString('utf8')) as { jobId?: unknown }).jobId;
      if (typeof jobId === 'string') record.jobId = jobId.toLowerCase();
    } catch {
      // not JSON: Flink answers it; the record keeps no JobID
    }
    const answer = await this.forward(req, body);
    const text = await readAll(answer);
    record.status = answer.statusCode ?? 502;
    record.outcome =
      record.status === 200
        ? 'accepted'
        : record.status === 400 && DUPLICATE.test(text.toString())
          ? 'duplicate'
          : 'refused';
    if (this.answerHook) await this.answerHook(record.jobId ?? '');
    await pollOnce();
    if (res.destroyed || req.socket.destroyed) {
      record.delivered = false;
      return;
    }
    res.once('finish', () => (record.delivered = true));
    res.once('close', () => {
      if (!res.writableFinished) record.delivered = false;
    });
    const headers = { ...answer.headers, 'content-length': String(text.length) };
    delete headers['transfer-encoding'];
    res.writeHead(record.status, headers);
    res.end(text);
  }
}

/** Flink's answers to one path, held until release(): `waiting` counts those held, `relayed` those let go. */
export class HeldAnswers {
  waiting = 0;
  relayed = 0;
  private released = false;
  private readonly gate: Promise<void>;
  private open!: () => void;

  constructor(private readonly onRelease: () => void) {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }

  async wait(): Promise<void> {
    this.waiting++;
    await this.gate;
    this.waiting--;
    this.relayed++;
  }

  /** Lets every held answer go, and the path's later ones pass at once. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.onRelease();
    this.open();
  }
}

/**
 * Lets one poll phase of the event loop pass, so a close the kernel already has (a worker
 * killed, a client that gave up) is seen before the answer is judged delivered or not.
 */
function pollOnce(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

function readAll(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}
