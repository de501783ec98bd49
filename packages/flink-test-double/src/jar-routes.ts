/**
 * The jar resources: POST /jars/upload, GET /jars, DELETE /jars/:jarid, POST
 * /jars/:jarid/run (JarRunHandler → DetachedApplicationRunner → Dispatcher.submitJob), and
 * POST /jars/:jarid/plan (JarPlanHandler: main() builds the JobGraph, nothing is submitted).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Faults } from './fault-controls';
import type { Flavor } from './flavor';
import { EMPTY, readText, type Reply, type Route } from './http-util';
import {
  CONFUSING_ARGS_ERROR,
  DUPLICATE_APPLICATION_ERROR,
  duplicateJobError,
  jarDeleteMissingError,
  jarPlanMissingError,
  jarRunMissingError,
  MAIN_THREW_ERROR,
  missingClassError,
  multipartError,
  NOT_A_JAR_ERROR,
  OPERATOR_FAILURE,
  parameterError,
  PLAN_MAIN_THREW_ERROR,
  planMissingClassError,
  uploadAttributeError,
  uploadFileCountError,
} from './java-errors';
import type { JobManagerState, RunRequestRecord } from './jobmanager-state';
import {
  JAR_PLAN_BODY,
  JAR_RUN_BODY,
  type PlanRequest,
  randomHexId,
  readBody,
  readPlanRequest,
  readRunRequest,
  tokenizeArguments,
} from './request-bodies';
import { type Behaviour, behaviourOf, behaviourOfJarName, SimulatedJob } from './simulated-job';
import { sleep } from './timers';
import { readUploadForm, type UploadForm } from './upload';
import { manifestEntryClass } from './zip';

/** MiniCluster-like upload dir; Flink's own paths show up in its answers. */
const UPLOAD_DIR = '/tmp/flink-web-upload';

export function jarRoutes(jm: JobManagerState, faults: Readonly<Faults>): Route[] {
  return [
    ['GET', '/jars', () => listJars(jm)],
    ['POST', '/jars/upload', (req) => upload(jm, faults, req)],
    ['DELETE', '/jars/:jarid', (_req, p) => deleteJar(jm, p.jarid ?? '')],
    ['POST', '/jars/:jarid/run', async (req, p, url) => run(jm, faults, req, p.jarid ?? '', await readText(req), url)],
    ['POST', '/jars/:jarid/plan', async (req, p, url) => plan(jm, p.jarid ?? '', await readText(req), url)],
    // Not in the published spec, but a real 1.20.5 and 2.3.0 answer it (query parameters only).
    ['GET', '/jars/:jarid/plan', (_req, p, url) => plan(jm, p.jarid ?? '', '', url)],
  ];
}

function listJars(jm: JobManagerState): Reply {
  const files = [...jm.jars.values()]
    .sort((x, y) => y.uploaded - x.uploaded)
    .map((j) => ({
      id: j.id,
      name: j.name,
      uploaded: j.uploaded,
      entry: j.entryClass ? [{ name: j.entryClass, description: null }] : [],
    }));
  return { status: 200, body: { address: jm.baseUrl, files } };
}

async function upload(jm: JobManagerState, faults: Readonly<Faults>, req: IncomingMessage): Promise<Reply> {
  const form = await readUploadForm(req);
  if ('error' in form) return { status: 400, body: multipartError(form.error) };
  if (faults.uploadHook) await faults.uploadHook(form.files[0]?.name ?? '');
  return storeUpload(jm, form);
}

function storeUpload(jm: JobManagerState, { files, unknownField }: UploadForm): Reply {
  if (unknownField) return { status: 400, body: uploadAttributeError(unknownField) };
  const [file] = files;
  if (!file || files.length !== 1) return { status: 400, body: uploadFileCountError(files.length) };
  const name = file.name.split(/[\\/]/).pop() ?? '';
  if (!name.endsWith('.jar')) return { status: 400, body: NOT_A_JAR_ERROR };
  const id = `${randomUUID()}_${name}`;
  jm.jars.set(id, { id, name, uploaded: Date.now(), entryClass: safeManifestClass(file.data) });
  jm.uploadCount++;
  return { status: 200, body: { filename: `${UPLOAD_DIR}/${id}`, status: 'success' } };
}

function safeManifestClass(jar: Buffer): string | null {
  try {
    return manifestEntryClass(jar);
  } catch {
    return null; // not a readable zip: Flink would list it with no entry classes
  }
}

function deleteJar(jm: JobManagerState, id: string): Reply {
  if (!jm.jars.delete(id)) return { status: 400, body: jarDeleteMissingError(id, UPLOAD_DIR) };
  return { status: 200, body: EMPTY };
}

/** What a run or plan request asks for, body and legacy query parameters merged. */
interface ProgramInput {
  entryClass: string | null;
  parallelism: number | null;
  programArgs: string[];
}

interface RunInput extends ProgramInput {
  jobId: string;
  savepointPath: string | null;
}

/** The fields run and plan share (JarRequestBody), each with its legacy query parameter; a body value wins. */
function readProgramInput(request: PlanRequest, url: URL, flavor: Flavor): ProgramInput | Reply {
  const query = url.searchParams;
  const queryParallelism = query.get('parallelism');
  if (queryParallelism !== null && !/^-?\d+$/.test(queryParallelism)) {
    return { status: 400, body: parameterError('query', 'parallelism', queryParallelism) };
  }
  const argsList = request.programArgsList ?? query.get('programArg')?.split(',') ?? [];
  // 2.x removed programArgs (FLINK-36275); the flexible mapper drops it silently.
  const argsString = flavor.v2 ? [] : tokenizeArguments(request.programArgs ?? query.get('program-args'));
  if (argsList.length > 0 && argsString.length > 0) return { status: 400, body: CONFUSING_ARGS_ERROR };
  return {
    entryClass: request.entryClass ?? query.get('entry-class'),
    parallelism: request.parallelism ?? (queryParallelism === null ? null : Number(queryParallelism)),
    programArgs: argsList.length > 0 ? argsList : argsString,
  };
}

/** Reads the body into `record` as it goes, so that a refused request is logged with what it named. */
function readRunInput(record: RunRequestRecord, text: string, url: URL, flavor: Flavor): RunInput | Reply {
  const read = readBody(text, JAR_RUN_BODY, (body) => {
    record.body = body;
    if (typeof body.jobId === 'string') record.jobId = body.jobId.toLowerCase();
    return readRunRequest(body);
  });
  if ('badRequest' in read) return { status: 400, body: read.badRequest };
  const request = read.value;
  const program = readProgramInput(request, url, flavor);
  if ('status' in program) return program;
  return {
    ...program,
    jobId: request.jobId ?? randomHexId(),
    savepointPath: request.savepointPath ?? url.searchParams.get('savepointPath'),
  };
}

async function run(
  jm: JobManagerState,
  faults: Readonly<Faults>,
  req: IncomingMessage,
  jarId: string,
  text: string,
  url: URL,
): Promise<Reply> {
  const record: RunRequestRecord = {
    jarId,
    body: {},
    jobId: null,
    at: Date.now(),
    status: null,
    outcome: null,
    delivered: null,
  };
  jm.runLog.push(record);
  jm.runRecordOf.set(req, record);
  const input = readRunInput(record, text, url, jm.flavor);
  if ('status' in input) return input;
  const { jobId, entryClass } = input;

  const jar = jm.jars.get(jarId);
  if (!jar) return { status: 500, body: jarRunMissingError(`${UPLOAD_DIR}/${jarId}`) };
  const programClass = entryClass ?? jar.entryClass;
  const behaviour: Behaviour = programClass ? behaviourOf(programClass) : behaviourOfJarName(jar.name);
  const className = programClass ?? jar.name.replace(/\.jar$/, '');
  if (behaviour === 'missing-class') return { status: 500, body: missingClassError(className) };

  // main() runs (side effects and all) before the dispatcher checks the JobID.
  if (faults.runHook) await faults.runHook(jobId);
  const jobName = className.split('.').pop() ?? className;
  if (behaviour === 'throws-in-main') return { status: 400, body: MAIN_THREW_ERROR };
  if (jm.takenIds.has(jobId)) {
    record.outcome = 'duplicate';
    // 2.3+ checks the ApplicationID (= JobID) before the job is built.
    return { status: 400, body: jm.flavor.v23 ? DUPLICATE_APPLICATION_ERROR : duplicateJobError(jobName) };
  }

  record.outcome = 'accepted';
  jm.takenIds.add(jobId);
  jm.acceptedIds.push(jobId);
  const { parallelism, savepointPath, programArgs } = input;
  const job = new SimulatedJob({ jid: jobId, name: jobName, entryClass, programArgs, parallelism, savepointPath });
  jm.jobs.set(jobId, job);
  // The run call returns only once the job has left INITIALIZING.
  await sleep(jm.timing.initializeMs);
  job.initialized();
  if (faults.runAnswerHook) await faults.runAnswerHook(jobId);
  if (behaviour === 'finishes') job.later(jm.timing.finishMs, () => job.moveTo('FINISHED'));
  if (behaviour === 'fails') job.later(jm.timing.failMs, () => job.fail(OPERATOR_FAILURE));
  return { status: 200, body: jm.flavor.v23 ? { jobid: jobId, applicationId: jobId } : { jobid: jobId } };
}

/** A JobVertexID: Flink hashes the stream graph, so the same program plans to the same ids. */
function vertexId(...parts: string[]): string {
  return createHash('md5').update(parts.join('/')).digest('hex');
}

/**
 * JarPlanHandler: the program's main() runs on the JobManager until execute(), which hands
 * back the JobGraph instead of submitting it. Neither a job nor a run request comes of it.
 */
function plan(jm: JobManagerState, jarId: string, text: string, url: URL): Reply {
  const read = readBody(text, JAR_PLAN_BODY, readPlanRequest);
  if ('badRequest' in read) return { status: 400, body: read.badRequest };
  const input = readProgramInput(read.value, url, jm.flavor);
  if ('status' in input) return input;

  const jar = jm.jars.get(jarId);
  if (!jar) return { status: 500, body: jarPlanMissingError(`${UPLOAD_DIR}/${jarId}`) };
  const programClass = input.entryClass ?? jar.entryClass;
  const behaviour: Behaviour = programClass ? behaviourOf(programClass) : behaviourOfJarName(jar.name);
  const className = programClass ?? jar.name.replace(/\.jar$/, '');
  if (behaviour === 'missing-class') return { status: 500, body: planMissingClassError(className) };
  if (behaviour === 'throws-in-main') return { status: 500, body: PLAN_MAIN_THREW_ERROR };

  const jobName = className.split('.').pop() ?? className;
  const parallelism = input.parallelism ?? jm.cluster.defaultParallelism ?? 1;
  const source = vertexId(className, 'source');
  const node = (id: string, description: string) => ({
    id,
    parallelism,
    operator: '',
    operator_strategy: '',
    description,
  });
  return {
    status: 200,
    body: {
      plan: {
        jid: read.value.jobId ?? randomHexId(),
        name: jobName,
        type: 'STREAMING',
        nodes: [
          { ...node(source, `Source: ${jobName} source`), optimizer_properties: {} },
          {
            ...node(vertexId(className, 'sink'), `Sink: ${jobName} sink`),
            inputs: [{ num: 0, id: source, ship_strategy: 'FORWARD', exchange: 'pipelined_bounded' }],
            optimizer_properties: {},
          },
        ],
      },
    },
  };
}
