/**
 * A Flink JobManager REST API test double, for fast tests and fault injection. It follows
 * Flink's published REST API specification and the behaviours written down in
 * docs/flink-rest.md: status codes (200 from run, 202 from
 * cancel and stop), `{"errors": [...]}` bodies with Java stack text, JobIDs that stay taken
 * for the life of the JobManager, savepoint triggers that are idempotent per triggerId.
 *
 * Differences from a real Flink (keep this list true; the FlinkGateway contract tests run
 * against both, see packages/flink-rest/test, and test/e2e/flink/README.md lists what a
 * real 1.20.5 and 2.3.0 cluster answered):
 * - Programs are not run: the entry class picks a scripted behaviour (simulated-job.ts).
 *   A real run blocks while main() builds the job graph (about a second for the
 *   examples); here it waits `initializeMs`. A jar whose manifest names no class runs by
 *   its file name here; a real Flink refuses it ("Neither a 'Main-Class', nor a
 *   'program-class' entry was found in the jar file.").
 * - A wrong entry class: checked on a real cluster, it is 500 "Internal server error." with
 *   "ProgramInvocationException: The program's entry point class '<class>' was not found
 *   in the jar file." in errors[1]; the double gives the same text (real Flink had no
 *   ClassNotFoundException cause line there; the double adds one, harmless to the client).
 * - Stack frames are a fixed, short sample; real ones are long. Headlines and "Caused by:"
 *   lines are the real texts. Jackson problems in 400 "Request did not match expected
 *   format …" answers are worded after Jackson's, not byte for byte.
 * - 2.3+: the run answer carries `applicationId`, and a duplicate says
 *   "DuplicateApplicationSubmissionException: Application has already been submitted."
 *   (read from Flink's source; the cause chain around it is a guess).
 * - Vertices, metrics and checkpoint statistics are empty apart from the savepoints taken
 *   and `latest.restored`; a failure's task name and TaskManager are made up.
 * - A savepoint location keeps the directory as configured (`file:///x/savepoint-…`); a
 *   real Flink may print the normalised `file:/x/savepoint-…`. `serialized-throwable` is
 *   base64 of the text, not a Java-serialized object.
 * - Uploaded JARs are kept in memory, and only the manifest is read from them; there is
 *   no upload size limit (Flink: 100 MiB, `rest.server.max-content-length`).
 * - One TaskManager holds all `slots` (default 64); a job that has not ended holds as many
 *   slots as its parallelism (else the default parallelism). A real job holds one slot per
 *   parallel subtask of its widest slot-sharing group, which for the examples is the same.
 * - GET /jobmanager/config lists a handful of keys; a real one lists every configured key.
 * - GET /jobs/:jobid/status of an unknown job: 500 with FlinkJobNotFoundException, as a real
 *   1.20.5 and 2.3.0 answered; its frames are the double's fixed sample, not the Dispatcher's.
 * - Only the endpoints the orchestrator uses exist; others (e.g. /taskmanagers) are 404.
 *
 * This file is the HTTP server and router. The endpoints are in cluster-routes.ts,
 * jar-routes.ts, job-routes.ts and savepoint-routes.ts, over one JobManagerState; the fault
 * controls are the base class (fault-controls.ts); every Java error text is in java-errors.ts.
 */
import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { clusterRoutes } from './cluster-routes';
import { FaultControls } from './fault-controls';
import { apiPath, checkIdParams, matchPath, type Reply, requestUrl, type Route } from './http-util';
import { jarRoutes } from './jar-routes';
import { LEADER_ELECTION_ERROR, routeNotFoundError, unexpectedError } from './java-errors';
import { jobRoutes } from './job-routes';
import { JobManagerState, type RunRequestRecord, type SavepointTriggerRecord, type Timing } from './jobmanager-state';
import { savepointRoutes } from './savepoint-routes';
import { sleep } from './timers';

export type { OutageMode } from './fault-controls';
export type { RunRequestRecord, SavepointTriggerRecord } from './jobmanager-state';

export interface FlinkTestDoubleOptions {
  /** Reported flink-version, default '1.20.1'; "2.x" drops `programArgs` and the 1.x exception fields. */
  version?: string;
  /** 0 (default): a free port on 127.0.0.1. */
  port?: number;
  /** The configured savepoint directory; null: none, so a stop needs `targetDirectory`. */
  savepointDir?: string | null;
  /** How long the simulated steps take; finishMs/failMs time the WordCount and Failing programs. */
  timing?: Partial<Timing>;
  /** Total task slots (one TaskManager), default 64; setSlots() changes it at run time. */
  slots?: number;
  /** `parallelism.default` in GET /jobmanager/config, default 1; null: the key is not configured. */
  defaultParallelism?: number | null;
}

export interface JobView {
  state: string;
  programArgs: string[];
  /** The entry class the run request named (body or query), null when the manifest's was used. */
  entryClass: string | null;
  parallelism: number | null;
  savepointPath: string | null;
}

const DEFAULT_TIMING: Timing = { initializeMs: 50, savepointMs: 100, cancelMs: 50, finishMs: 300, failMs: 200 };
/** Enough that the jobs the tests run always fit. */
const DEFAULT_SLOTS = 64;

/** The HTTP server and router; the resources live in *-routes.ts, the fault controls in its base class. */
export class FlinkTestDouble extends FaultControls {
  private server: Server | null = null;
  private readonly routes: Route[];

  constructor(private readonly options: FlinkTestDoubleOptions = {}) {
    super(
      new JobManagerState(
        options.version ?? '1.20.1',
        options.savepointDir === undefined ? 'file:///tmp/flink-double-savepoints' : options.savepointDir,
        { ...DEFAULT_TIMING, ...options.timing },
        {
          slots: DEFAULT_SLOTS,
          defaultParallelism: options.defaultParallelism === undefined ? 1 : options.defaultParallelism,
        },
      ),
    );
    if (options.slots !== undefined) this.setSlots(options.slots);
    const parallelism = this.jobManager.cluster.defaultParallelism;
    if (parallelism !== null && (!Number.isSafeInteger(parallelism) || parallelism < 1)) {
      throw new RangeError(`defaultParallelism must be a positive integer or null, not ${parallelism}`);
    }
    // Static routes first: like Flink's router, /jobs/overview wins over /jobs/:jobid.
    this.routes = [
      ...clusterRoutes(this.jobManager),
      ...jarRoutes(this.jobManager, this.faults),
      ...jobRoutes(this.jobManager),
      ...savepointRoutes(this.jobManager, this.faults),
    ];
  }

  async start(): Promise<string> {
    const server = http.createServer((req, res) => void this.handle(req, res));
    // 'refuse' drops new connections before a byte is read: the client sees a reset.
    server.on('connection', (socket) => {
      if (this.faults.outage === 'refuse') socket.destroy();
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, '127.0.0.1', () => resolve());
    });
    this.jobManager.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.jobManager.baseUrl;
  }

  async stop(): Promise<void> {
    this.jobManager.clearAllTimers();
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Base URL, e.g. http://127.0.0.1:34567 ('' before start()). */
  get url(): string {
    return this.jobManager.baseUrl;
  }

  // --- inspection, for assertions ---

  /** Successful POST /jars/upload calls. */
  get uploads(): number {
    return this.jobManager.uploadCount;
  }

  /** Every POST /jars/:id/run received, rejected ones included. */
  get runRequests(): ReadonlyArray<RunRequestRecord> {
    return this.jobManager.runLog;
  }

  /** Every run request that named `jobId`, in arrival order. */
  runRequestsFor(jobId: string): RunRequestRecord[] {
    return this.jobManager.runLog.filter((r) => r.jobId === jobId);
  }

  /** Every stop-with-savepoint and savepoint trigger received, repeated trigger ids included. */
  get savepointTriggers(): ReadonlyArray<SavepointTriggerRecord> {
    return this.jobManager.triggerLog;
  }

  /** The savepoint paths POST /savepoint-disposal was asked for, in order. */
  get disposalRequests(): readonly string[] {
    return this.jobManager.disposalLog;
  }

  /** JobIDs the dispatcher accepted, in order (a restart() makes ids reusable, so one may then repeat). */
  submittedJobIds(): string[] {
    return [...this.jobManager.acceptedIds];
  }

  job(jobId: string): JobView | undefined {
    const job = this.jobManager.jobs.get(jobId);
    if (!job) return undefined;
    const { programArgs, entryClass, parallelism, savepointPath } = job.spec;
    return { state: job.state, programArgs: [...programArgs], entryClass, parallelism, savepointPath };
  }

  jarIds(): string[] {
    return [...this.jobManager.jars.keys()];
  }

  // --- HTTP plumbing ---

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.faults.latencyMs > 0) await sleep(this.faults.latencyMs);
    // Also checked per request: a kept-alive socket outlives the 'connection' check.
    if (this.faults.outage === 'refuse') {
      req.socket.destroy();
      return;
    }
    let reply: Reply;
    try {
      const method = req.method ?? 'GET';
      const path = apiPath(requestUrl(req));
      if (this.faults.requestHook) await this.faults.requestHook(method, path);
      if (this.faults.outage === 'unavailable' || this.faults.unavailableWhen?.(method, path)) {
        req.resume();
        reply = { status: 503, body: LEADER_ELECTION_ERROR };
      } else {
        reply = await this.route(req);
      }
    } catch (error) {
      reply = { status: 500, body: unexpectedError((error as Error).message) };
    }
    const record = this.jobManager.runRecordOf.get(req);
    if (record) {
      record.status = reply.status;
      record.outcome ??= 'refused';
      // One poll phase: a client that went away (killed, timed out) while the run was held
      // is seen as gone before its answer is judged delivered.
      await new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
    }
    if (res.destroyed || req.socket.destroyed) {
      if (record) record.delivered = false;
      return;
    }
    if (record) {
      res.once('finish', () => (record.delivered = true));
      res.once('close', () => {
        if (!res.writableFinished) record.delivered = false;
      });
    }
    const text = JSON.stringify(reply.body);
    res.writeHead(reply.status, {
      'content-type': 'application/json; charset=UTF-8',
      'content-length': Buffer.byteLength(text),
      'access-control-allow-origin': '*',
    });
    res.end(text);
  }

  private async route(req: IncomingMessage): Promise<Reply> {
    const url = requestUrl(req);
    const path = apiPath(url).replace(/(.)\/$/, '$1');
    const segments = path.split('/').filter(Boolean).map(decodeURIComponent);
    for (const [method, pattern, handler] of this.routes) {
      const params = method === req.method ? matchPath(pattern, segments) : null;
      if (!params) continue;
      const invalid = checkIdParams(params);
      if (invalid) {
        req.resume();
        return invalid;
      }
      // Only POST handlers read a body; the others drain it so the socket can be reused.
      if (method !== 'POST') req.resume();
      return handler(req, params, url);
    }
    req.resume();
    return { status: 404, body: routeNotFoundError(req.url ?? '/') };
  }
}
