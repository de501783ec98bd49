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
 * - Only the endpoints the orchestrator uses exist; others (e.g. /jobs/:id/status) are 404.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkIdParams, matchPath, type Params, readText, type Reply, sleep } from './http-util';
import {
  applicationError,
  bodyFormatError,
  internalError,
  jobNotFoundCause,
  LEADER_ELECTION,
  missingClassError,
  notFoundError,
  parameterError,
  restHandlerError,
} from './java-errors';
import {
  BodyFormatError,
  JAR_RUN_BODY,
  parseJsonObject,
  readRunRequest,
  readSavepointRequest,
  type RunRequest,
  SAVEPOINT_BODY,
  type SavepointRequest,
  STOP_BODY,
  tokenizeArguments,
} from './request-bodies';
import {
  type Behaviour,
  behaviourOf,
  behaviourOfJarName,
  type Flavor,
  flavorOf,
  SimulatedJob,
  TERMINAL_STATES,
} from './simulated-job';
import { createLocalDirectory, operationResult, type SavepointOperation, savepointLocation } from './savepoints';
import { readUploadForm, type UploadForm } from './upload';
import { manifestEntryClass } from './zip';

export interface FlinkTestDoubleOptions {
  /** Reported flink-version, default '1.20.1'; "2.x" drops `programArgs` and the 1.x exception fields. */
  version?: string;
  /** 0 (default): a free port on 127.0.0.1. */
  port?: number;
  /** The configured savepoint directory; null: none, so a stop needs `targetDirectory`. */
  savepointDir?: string | null;
  /** How long the simulated steps take; finishMs/failMs time the WordCount and Failing programs. */
  timing?: { initializeMs?: number; savepointMs?: number; cancelMs?: number; finishMs?: number; failMs?: number };
}

export interface JobView {
  state: string;
  programArgs: string[];
  /** The entry class the run request named (body or query), null when the manifest's was used. */
  entryClass: string | null;
  parallelism: number | null;
  savepointPath: string | null;
}

export type OutageMode = 'none' | 'unavailable' | 'refuse';

export interface RunRequestRecord {
  jarId: string;
  body: Record<string, unknown>;
  /** The JobID the body asked for (a string), also for requests that were refused; null when it named none. */
  jobId: string | null;
  /** When the request arrived (Date.now()). */
  at: number;
  /** The HTTP status answered; null while the request is still being handled. */
  status: number | null;
  /** accepted: the dispatcher took the job; duplicate: refused, the JobID was taken; refused: any other answer. */
  outcome: 'accepted' | 'duplicate' | 'refused' | null;
  /**
   * Whether the answer reached the client's socket: false when the client had gone (killed,
   * timed out) before it was written; null while the request is still being handled.
   */
  delivered: boolean | null;
}

/** One POST /jobs/:jobid/stop or /savepoints trigger, as received. */
export interface SavepointTriggerRecord {
  jobId: string;
  triggerId: string;
  kind: 'stop' | 'savepoint';
  at: number;
  /** False when it named a (job, triggerId) already known: the same operation again. */
  created: boolean;
}

interface Jar {
  id: string;
  name: string;
  uploaded: number;
  entryClass: string | null;
}

type Handler = (req: IncomingMessage, params: Params, url: URL) => Reply | Promise<Reply>;

/** MiniCluster-like upload dir; Flink's own paths show up in its answers. */
const UPLOAD_DIR = '/tmp/flink-web-upload';
/** The default failSavepoints() cause: what CheckpointCoordinator reports when a savepoint times out. */
const SAVEPOINT_EXPIRED =
  'org.apache.flink.runtime.checkpoint.CheckpointException: Checkpoint expired before completing.';
/** Flink answers an EmptyResponseBody as `{}`. */
const EMPTY = {};
/** `maxExceptions` default of JobExceptionsHandler. */
const MAX_EXCEPTIONS = 20;

export class FlinkTestDouble {
  private server: Server | null = null;
  private baseUrl = '';
  private readonly flavor: Flavor;
  private readonly version: string;
  private readonly savepointDir: string | null;
  private readonly timing: Required<NonNullable<FlinkTestDoubleOptions['timing']>>;
  private readonly routes: [string, string, Handler][];

  private readonly jars = new Map<string, Jar>();
  private readonly jobs = new Map<string, SimulatedJob>();
  /** JobIDs the dispatcher accepted since the last (simulated) restart: never reusable. */
  private readonly takenIds = new Set<string>();
  private readonly acceptedIds: string[] = [];
  private readonly savepoints = new Map<string, SavepointOperation>();
  private readonly pendingTimers = new Set<NodeJS.Timeout>();
  private readonly runLog: RunRequestRecord[] = [];
  private readonly runRecordOf = new WeakMap<IncomingMessage, RunRequestRecord>();
  private readonly triggerLog: SavepointTriggerRecord[] = [];
  private uploadCount = 0;

  private outage: OutageMode = 'none';
  private latencyMs = 0;
  private runHook: ((jobId: string) => Promise<void>) | null = null;
  private requestHook: ((method: string, path: string) => Promise<void> | void) | null = null;
  private runAnswerHook: ((jobId: string) => Promise<void>) | null = null;
  private uploadHook: ((fileName: string) => Promise<void>) | null = null;
  private savepointHook: ((jobId: string, triggerId: string) => Promise<void>) | null = null;
  private savepointFailure: string | null = null;

  constructor(private readonly options: FlinkTestDoubleOptions = {}) {
    this.version = options.version ?? '1.20.1';
    this.flavor = flavorOf(this.version);
    this.savepointDir =
      options.savepointDir === undefined ? 'file:///tmp/flink-double-savepoints' : options.savepointDir;
    this.timing = { initializeMs: 50, savepointMs: 100, cancelMs: 50, finishMs: 300, failMs: 200, ...options.timing };
    // Static routes first: like Flink's router, /jobs/overview wins over /jobs/:jobid.
    this.routes = [
      ['GET', '/config', () => this.config()],
      ['GET', '/overview', () => this.overview()],
      ['GET', '/jars', () => this.listJars()],
      ['POST', '/jars/upload', (req) => this.upload(req)],
      ['DELETE', '/jars/:jarid', (_req, p) => this.deleteJar(p.jarid ?? '')],
      ['POST', '/jars/:jarid/run', async (req, p, url) => this.run(req, p.jarid ?? '', await readText(req), url)],
      ['GET', '/jobs', () => this.listJobs()],
      ['GET', '/jobs/overview', () => this.jobsOverview()],
      ['GET', '/jobs/:jobid', (_req, p) => this.jobDetails(p.jobid ?? '')],
      ['PATCH', '/jobs/:jobid', (_req, p, url) => this.cancel(p.jobid ?? '', url)],
      ['GET', '/jobs/:jobid/exceptions', (_req, p, url) => this.exceptions(p.jobid ?? '', url)],
      ['GET', '/jobs/:jobid/checkpoints', (_req, p) => this.checkpoints(p.jobid ?? '')],
      ['POST', '/jobs/:jobid/stop', async (req, p) => this.trigger(p.jobid ?? '', await readText(req), 'stop')],
      [
        'POST',
        '/jobs/:jobid/savepoints',
        async (req, p) => this.trigger(p.jobid ?? '', await readText(req), 'savepoint'),
      ],
      [
        'GET',
        '/jobs/:jobid/savepoints/:triggerid',
        (_req, p) => this.savepointStatus(p.jobid ?? '', p.triggerid ?? ''),
      ],
    ];
  }

  async start(): Promise<string> {
    const server = http.createServer((req, res) => void this.handle(req, res));
    // 'refuse' drops new connections before a byte is read: the client sees a reset.
    server.on('connection', (socket) => {
      if (this.outage === 'refuse') socket.destroy();
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, '127.0.0.1', () => resolve());
    });
    this.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    this.clearAllTimers();
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Base URL, e.g. http://127.0.0.1:34567 ('' before start()). */
  get url(): string {
    return this.baseUrl;
  }

  // --- inspection, for assertions ---

  /** Successful POST /jars/upload calls. */
  get uploads(): number {
    return this.uploadCount;
  }

  /** Every POST /jars/:id/run received, rejected ones included. */
  get runRequests(): ReadonlyArray<RunRequestRecord> {
    return this.runLog;
  }

  /** Every run request that named `jobId`, in arrival order. */
  runRequestsFor(jobId: string): RunRequestRecord[] {
    return this.runLog.filter((r) => r.jobId === jobId);
  }

  /** Every stop-with-savepoint and savepoint trigger received, repeated trigger ids included. */
  get savepointTriggers(): ReadonlyArray<SavepointTriggerRecord> {
    return this.triggerLog;
  }

  /** JobIDs the dispatcher accepted, in order (a restart() makes ids reusable, so one may then repeat). */
  submittedJobIds(): string[] {
    return [...this.acceptedIds];
  }

  job(jobId: string): JobView | undefined {
    const job = this.jobs.get(jobId);
    if (!job) return undefined;
    const { programArgs, entryClass, parallelism, savepointPath } = job.spec;
    return { state: job.state, programArgs: [...programArgs], entryClass, parallelism, savepointPath };
  }

  jarIds(): string[] {
    return [...this.jars.keys()];
  }

  // --- behaviour control / fault injection ---

  setOutage(mode: OutageMode): void {
    this.outage = mode;
  }

  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  setRunDelayHook(fn: ((jobId: string) => Promise<void>) | null): void {
    this.runHook = fn;
  }

  /**
   * Awaited as each request arrives, before it is routed (so before a run request's jar is
   * looked up); `path` without the /v1 prefix. For counting requests, or holding one kind.
   */
  setRequestHook(fn: ((method: string, path: string) => Promise<void> | void) | null): void {
    this.requestHook = fn;
  }

  /**
   * Awaited once a run request was accepted (the job is registered and has left
   * INITIALIZING), before the answer is written: Flink runs the job, the client has not heard.
   */
  setRunAnswerHook(fn: ((jobId: string) => Promise<void>) | null): void {
    this.runAnswerHook = fn;
  }

  /**
   * Awaited inside POST /jars/upload once the whole file has arrived, before the jar is
   * stored and answered: an upload held mid-flight (the client waits for the answer).
   */
  setUploadHook(fn: ((fileName: string) => Promise<void>) | null): void {
    this.uploadHook = fn;
  }

  /**
   * Awaited when a savepoint operation would complete (after `savepointMs`): while it is
   * pending the operation reads IN_PROGRESS, so a hook that never resolves is a savepoint
   * that never completes.
   */
  setSavepointHook(fn: ((jobId: string, triggerId: string) => Promise<void>) | null): void {
    this.savepointHook = fn;
  }

  /**
   * Savepoint operations completing from now on fail with `cause` (a Java exception line),
   * null: they succeed again. As in Flink, a failed stop-with-savepoint leaves the job
   * RUNNING, and the operation reads COMPLETED with a `failure-cause`.
   */
  failSavepoints(cause: string | null = SAVEPOINT_EXPIRED): void {
    this.savepointFailure = cause;
  }

  finishJob(jobId: string): void {
    this.jobs.get(jobId)?.moveTo('FINISHED');
  }

  failJob(jobId: string, cause = 'java.lang.RuntimeException: boom'): void {
    this.jobs.get(jobId)?.fail(cause);
  }

  /** The job vanishes (GET → 404), as if it expired; its id stays taken, as in Flink's JobResultStore. */
  forgetJob(jobId: string): void {
    this.jobs.get(jobId)?.clearTimers();
    this.jobs.delete(jobId);
  }

  /** A JobManager restart without HA: jobs forgotten, their ids free again, jars lost unless kept. */
  restart(options: { keepJars?: boolean } = {}): void {
    this.clearAllTimers();
    this.jobs.clear();
    this.takenIds.clear();
    this.savepoints.clear();
    if (!options.keepJars) this.jars.clear();
  }

  // --- HTTP plumbing ---

  private clearAllTimers(): void {
    for (const job of this.jobs.values()) job.clearTimers();
    for (const t of this.pendingTimers) clearTimeout(t);
    this.pendingTimers.clear();
  }

  private later(ms: number, action: () => void): void {
    const timer = setTimeout(() => {
      this.pendingTimers.delete(timer);
      action();
    }, ms);
    this.pendingTimers.add(timer);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.latencyMs > 0) await sleep(this.latencyMs);
    // Also checked per request: a kept-alive socket outlives the 'connection' check.
    if (this.outage === 'refuse') {
      req.socket.destroy();
      return;
    }
    let reply: Reply;
    try {
      if (this.requestHook) {
        const path = new URL(req.url ?? '/', 'http://flink').pathname.replace(/^\/v1(?=\/)/, '');
        await this.requestHook(req.method ?? 'GET', path);
      }
      if (this.outage === 'unavailable') {
        req.resume();
        reply = { status: 503, body: { errors: [LEADER_ELECTION] } };
      } else {
        reply = await this.route(req);
      }
    } catch (error) {
      reply = { status: 500, body: internalError(`java.lang.RuntimeException: ${(error as Error).message}`) };
    }
    const record = this.runRecordOf.get(req);
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
    const url = new URL(req.url ?? '/', 'http://flink');
    // Every path also answers under /v1 (the default and only REST API version).
    const path = url.pathname.replace(/^\/v1(?=\/)/, '').replace(/(.)\/$/, '$1');
    const segments = path.split('/').filter(Boolean).map(decodeURIComponent);
    for (const [method, pattern, handler] of this.routes) {
      const params = method === req.method ? matchPath(pattern, segments) : null;
      if (!params) continue;
      const invalid = checkIdParams(params);
      if (invalid) {
        req.resume();
        return invalid;
      }
      if (method !== 'POST') req.resume();
      return handler(req, params, url);
    }
    req.resume();
    return { status: 404, body: { errors: [`Not found: ${req.url ?? '/'}`] } };
  }

  // --- cluster ---

  private config(): Reply {
    return {
      status: 200,
      body: {
        'refresh-interval': 3000,
        'timezone-name': 'Coordinated Universal Time',
        'timezone-offset': 0,
        'flink-version': this.version,
        'flink-revision': 'test-double @ 1970-01-01T00:00:00+00:00',
        features: { 'web-submit': true, 'web-cancel': true, 'web-rescale': false, 'web-history': false },
      },
    };
  }

  private overview(): Reply {
    const jobs = [...this.jobs.values()];
    const count = (state: string) => jobs.filter((j) => j.state === state).length;
    const active = jobs.filter((j) => !TERMINAL_STATES.has(j.state));
    const slotsTotal = 64;
    const slotsUsed = active.reduce((sum, j) => sum + (j.spec.parallelism ?? 1), 0);
    return {
      status: 200,
      body: {
        taskmanagers: 1,
        'slots-total': slotsTotal,
        'slots-available': Math.max(0, slotsTotal - slotsUsed),
        'slots-free-and-blocked': 0,
        'taskmanagers-blocked': 0,
        'jobs-running': active.length,
        'jobs-finished': count('FINISHED'),
        'jobs-cancelled': count('CANCELED'),
        'jobs-failed': count('FAILED'),
        'flink-version': this.version,
        'flink-commit': 'test-double',
      },
    };
  }

  // --- jars ---

  private listJars(): Reply {
    const files = [...this.jars.values()]
      .sort((x, y) => y.uploaded - x.uploaded)
      .map((j) => ({
        id: j.id,
        name: j.name,
        uploaded: j.uploaded,
        entry: j.entryClass ? [{ name: j.entryClass, description: null }] : [],
      }));
    return { status: 200, body: { address: this.baseUrl, files } };
  }

  private async upload(req: IncomingMessage): Promise<Reply> {
    const form = await readUploadForm(req);
    if ('error' in form) return { status: 400, body: restHandlerError(form.error) };
    if (this.uploadHook) await this.uploadHook(form.files[0]?.name ?? '');
    return this.storeUpload(form);
  }

  private storeUpload({ files, unknownField }: UploadForm): Reply {
    // FileUploadHandler answers this one itself: a plain message, no stack trace.
    if (unknownField) return { status: 400, body: { errors: [`Received unknown attribute ${unknownField}.`] } };
    const [file] = files;
    if (!file || files.length !== 1) {
      return { status: 400, body: restHandlerError(`Exactly 1 file must be sent, received ${files.length}.`) };
    }
    const name = file.name.split(/[\\/]/).pop() ?? '';
    if (!name.endsWith('.jar')) return { status: 400, body: restHandlerError('Only Jar files are allowed.') };
    const id = `${randomUUID()}_${name}`;
    this.jars.set(id, { id, name, uploaded: Date.now(), entryClass: safeManifestClass(file.data) });
    this.uploadCount++;
    return { status: 200, body: { filename: `${UPLOAD_DIR}/${id}`, status: 'success' } };
  }

  private deleteJar(id: string): Reply {
    if (!this.jars.delete(id)) {
      return { status: 400, body: restHandlerError(`File ${id} does not exist in ${UPLOAD_DIR}.`) };
    }
    return { status: 200, body: EMPTY };
  }

  // --- run: JarRunHandler → DetachedApplicationRunner → Dispatcher.submitJob ---

  private async run(req: IncomingMessage, jarId: string, text: string, url: URL): Promise<Reply> {
    const record: RunRequestRecord = {
      jarId,
      body: {},
      jobId: null,
      at: Date.now(),
      status: null,
      outcome: null,
      delivered: null,
    };
    this.runLog.push(record);
    this.runRecordOf.set(req, record);
    let request: RunRequest;
    try {
      record.body = parseJsonObject(text, JAR_RUN_BODY);
      if (typeof record.body.jobId === 'string') record.jobId = record.body.jobId.toLowerCase();
      request = readRunRequest(record.body);
    } catch (error) {
      if (error instanceof BodyFormatError) return { status: 400, body: bodyFormatError(JAR_RUN_BODY, error.message) };
      throw error;
    }
    // Legacy query parameters; a body value wins.
    const query = url.searchParams;
    const queryParallelism = query.get('parallelism');
    if (queryParallelism !== null && !/^-?\d+$/.test(queryParallelism)) {
      return { status: 400, body: parameterError('query', 'parallelism', queryParallelism) };
    }
    const entryClass = request.entryClass ?? query.get('entry-class');
    const parallelism = request.parallelism ?? (queryParallelism === null ? null : Number(queryParallelism));
    const savepointPath = request.savepointPath ?? query.get('savepointPath');
    const argsList = request.programArgsList ?? query.get('programArg')?.split(',') ?? [];
    // 2.x removed programArgs (FLINK-36275); the flexible mapper drops it silently.
    const argsString = this.flavor.v2 ? [] : tokenizeArguments(request.programArgs ?? query.get('program-args'));
    if (argsList.length > 0 && argsString.length > 0) {
      return {
        status: 400,
        body: restHandlerError(
          'Confusing request: programArgs and programArgsList are specified, please, use only programArgsList',
        ),
      };
    }
    const jobId = request.jobId ?? randomBytes(16).toString('hex');

    const jar = this.jars.get(jarId);
    if (!jar) {
      // Thrown synchronously inside a CompletionException, so the generic 500 (docs/flink-rest.md).
      return {
        status: 500,
        body: internalError(
          `java.util.concurrent.CompletionException: org.apache.flink.runtime.rest.handler.RestHandlerException: Jar file ${UPLOAD_DIR}/${jarId} does not exist`,
          [
            `org.apache.flink.runtime.rest.handler.RestHandlerException: Jar file ${UPLOAD_DIR}/${jarId} does not exist`,
          ],
        ),
      };
    }
    const programClass = entryClass ?? jar.entryClass;
    const behaviour: Behaviour = programClass ? behaviourOf(programClass) : behaviourOfJarName(jar.name);
    const className = programClass ?? jar.name.replace(/\.jar$/, '');
    if (behaviour === 'missing-class') return { status: 500, body: missingClassError(className) };

    // main() runs (side effects and all) before the dispatcher checks the JobID.
    if (this.runHook) await this.runHook(jobId);
    const jobName = className.split('.').pop() ?? className;
    if (behaviour === 'throws-in-main') {
      return {
        status: 400,
        body: applicationError([
          'org.apache.flink.client.program.ProgramInvocationException: The main method caused an error: Simulated exception in main()',
          'java.lang.IllegalArgumentException: Simulated exception in main()',
        ]),
      };
    }
    if (this.takenIds.has(jobId)) {
      record.outcome = 'duplicate';
      return { status: 400, body: this.duplicateError(jobName) };
    }

    record.outcome = 'accepted';
    this.takenIds.add(jobId);
    this.acceptedIds.push(jobId);
    const job = new SimulatedJob({
      jid: jobId,
      name: jobName,
      entryClass,
      programArgs: argsList.length > 0 ? argsList : argsString,
      parallelism,
      savepointPath,
    });
    this.jobs.set(jobId, job);
    // The run call returns only once the job has left INITIALIZING.
    await sleep(this.timing.initializeMs);
    job.initialized();
    if (this.runAnswerHook) await this.runAnswerHook(jobId);
    if (behaviour === 'finishes') job.later(this.timing.finishMs, () => job.moveTo('FINISHED'));
    if (behaviour === 'fails') {
      job.later(this.timing.failMs, () => job.fail('java.lang.IllegalStateException: Simulated failure in operator'));
    }
    return { status: 200, body: this.flavor.v23 ? { jobid: jobId, applicationId: jobId } : { jobid: jobId } };
  }

  private duplicateError(jobName: string): { errors: string[] } {
    if (this.flavor.v23) {
      // 2.3+: Dispatcher.submitApplication checks the ApplicationID (= JobID) first.
      return applicationError([
        'org.apache.flink.runtime.dispatcher.DuplicateApplicationSubmissionException: Application has already been submitted.',
      ]);
    }
    return applicationError([
      `org.apache.flink.client.program.ProgramInvocationException: The main method caused an error: Failed to execute job '${jobName}'.`,
      `org.apache.flink.util.FlinkException: Failed to execute job '${jobName}'.`,
      'org.apache.flink.runtime.client.DuplicateJobSubmissionException: Job has already been submitted.',
    ]);
  }

  // --- jobs ---

  private listJobs(): Reply {
    return { status: 200, body: { jobs: [...this.jobs.values()].map((j) => ({ id: j.jid, status: j.state })) } };
  }

  private jobsOverview(): Reply {
    const now = Date.now();
    return { status: 200, body: { jobs: [...this.jobs.values()].map((j) => j.overview(this.flavor, now)) } };
  }

  /** The 404 of AbstractExecutionGraphHandler for an unknown or expired job. */
  private jobNotFound(jid: string): Reply {
    return { status: 404, body: notFoundError(`Job ${jid} not found`, [jobNotFoundCause(jid)]) };
  }

  private jobDetails(jid: string): Reply {
    const job = this.jobs.get(jid);
    return job ? { status: 200, body: job.details(this.flavor) } : this.jobNotFound(jid);
  }

  private cancel(jid: string, url: URL): Reply {
    const mode = url.searchParams.get('mode');
    if (mode !== null && !['CANCEL', 'STOP'].includes(mode.toUpperCase())) {
      return { status: 400, body: parameterError('query', 'mode', mode) };
    }
    if (mode?.toUpperCase() === 'STOP') {
      return {
        status: 308,
        body: restHandlerError(
          'The termination mode "stop" has been removed. For an ungraceful shutdown, please use "cancel" instead. For a graceful shutdown, please use "jobs/:jobId/stop" instead.',
        ),
      };
    }
    const job = this.jobs.get(jid);
    if (!job) return { status: 404, body: restHandlerError('Job could not be found.', [jobNotFoundCause(jid)]) };
    // Cancelling a cancelled job is acknowledged again (Dispatcher.cancelJob).
    if (job.state === 'CANCELED' || job.state === 'CANCELLING') return { status: 202, body: EMPTY };
    if (TERMINAL_STATES.has(job.state)) {
      return {
        status: 409,
        body: restHandlerError(
          `Job cancellation failed because the job has already reached another terminal state (${job.state}).`,
        ),
      };
    }
    job.clearTimers();
    job.moveTo('CANCELLING');
    job.later(this.timing.cancelMs, () => job.moveTo('CANCELED'));
    return { status: 202, body: EMPTY };
  }

  private exceptions(jid: string, url: URL): Reply {
    const job = this.jobs.get(jid);
    if (!job) return this.jobNotFound(jid);
    const max = url.searchParams.get('maxExceptions');
    if (max !== null && !/^\d+$/.test(max)) return { status: 400, body: parameterError('query', 'maxExceptions', max) };
    return { status: 200, body: job.exceptions(this.flavor, max === null ? MAX_EXCEPTIONS : Number(max)) };
  }

  private checkpoints(jid: string): Reply {
    const job = this.jobs.get(jid);
    return job ? { status: 200, body: job.checkpoints() } : this.jobNotFound(jid);
  }

  // --- savepoints: /stop (stop-with-savepoint) and /savepoints share one operation cache ---

  private trigger(jid: string, text: string, kind: 'stop' | 'savepoint'): Reply {
    const requestClass = kind === 'stop' ? STOP_BODY : SAVEPOINT_BODY;
    let request: SavepointRequest;
    try {
      request = readSavepointRequest(parseJsonObject(text, requestClass), kind);
    } catch (error) {
      if (error instanceof BodyFormatError) return { status: 400, body: bodyFormatError(requestClass, error.message) };
      throw error;
    }
    const directory = request.targetDirectory ?? this.savepointDir;
    if (!directory) {
      const key = this.savepointDirKey();
      const property = kind === 'stop' ? 'targetDirectory' : 'target-directory';
      return {
        status: 400,
        body: restHandlerError(`Config key [${key}] is not set. Property [${property}] must be provided.`),
      };
    }
    const triggerId = request.triggerId ?? randomBytes(16).toString('hex');
    const key = `${jid}/${triggerId}`;
    const known = this.savepoints.has(key);
    this.triggerLog.push({ jobId: jid, triggerId, kind, at: Date.now(), created: !known });
    // Same (job, triggerId): the same operation, not a second savepoint.
    if (known) return { status: 202, body: { 'request-id': triggerId } };
    const operation: SavepointOperation = { status: 'IN_PROGRESS' };
    this.savepoints.set(key, operation);
    const triggered = Date.now();
    // An unknown job still gets its 202; the failure shows in the status poll.
    this.later(
      this.timing.savepointMs,
      () => void this.completeSavepoint(jid, triggerId, operation, kind, request, directory, triggered),
    );
    return { status: 202, body: { 'request-id': triggerId } };
  }

  private async completeSavepoint(
    jid: string,
    triggerId: string,
    operation: SavepointOperation,
    kind: 'stop' | 'savepoint',
    request: SavepointRequest,
    directory: string,
    triggered: number,
  ): Promise<void> {
    if (this.savepointHook) await this.savepointHook(jid, triggerId);
    // A restart() meanwhile forgot the operation: nothing is left to complete.
    if (this.savepoints.get(`${jid}/${triggerId}`) !== operation) return;
    const job = this.jobs.get(jid);
    if (!job || TERMINAL_STATES.has(job.state)) {
      operation.failure = jobNotFoundCause(jid);
    } else if (job.state !== 'RUNNING') {
      operation.failure = `org.apache.flink.runtime.checkpoint.CheckpointException: Checkpoint triggering task ${job.spec.name} (1/1) of job ${jid} is not being executed at the moment. Aborting checkpoint. Failure reason: Not all required tasks are currently running.`;
    } else if (this.savepointFailure) {
      // The job keeps running: a failed stop-with-savepoint does not stop it.
      operation.failure = this.savepointFailure;
    } else {
      operation.location = savepointLocation(directory, jid);
      createLocalDirectory(operation.location);
      job.recordSavepoint(operation.location, triggered);
      const ends = kind === 'stop' ? 'FINISHED' : request.cancelJob ? 'CANCELED' : null;
      if (ends) job.moveTo(ends);
    }
    operation.status = 'COMPLETED';
  }

  private savepointDirKey(): string {
    const [major = 0, minor = 0] = this.version.split('.').map((n) => Number.parseInt(n, 10) || 0);
    return major === 1 && minor < 20 ? 'state.savepoints.dir' : 'execution.checkpointing.savepoint-dir';
  }

  private savepointStatus(jid: string, triggerId: string): Reply {
    const operation = this.savepoints.get(`${jid}/${triggerId}`);
    if (!operation) {
      return {
        status: 404,
        body: notFoundError(`There is no savepoint operation with triggerId=${triggerId} for job ${jid}.`),
      };
    }
    return { status: 200, body: operationResult(operation) };
  }
}

function safeManifestClass(jar: Buffer): string | null {
  try {
    return manifestEntryClass(jar);
  } catch {
    return null; // not a readable zip: Flink would list it with no entry classes
  }
}
