/**
 * Savepoints: POST /jobs/:jobid/stop (stop-with-savepoint) and POST /jobs/:jobid/savepoints
 * trigger one operation cache, which GET /jobs/:jobid/savepoints/:triggerid polls.
 */
import type { IncomingMessage } from 'node:http';
import type { Faults } from './fault-controls';
import { readText, type Reply, type Route } from './http-util';
import {
  jobNotFoundCause,
  notFoundError,
  restHandlerError,
  savepointDirMissingError,
  tasksNotRunningCause,
  unknownTriggerError,
} from './java-errors';
import type { JobManagerState } from './jobmanager-state';
import {
  DISPOSAL_BODY,
  randomHexId,
  readBody,
  readDisposalRequest,
  readSavepointRequest,
  SAVEPOINT_BODY,
  type SavepointRequest,
  STOP_BODY,
} from './request-bodies';
import {
  createLocalDirectory,
  operationResult,
  removeLocalSavepoint,
  type SavepointOperation,
  savepointLocation,
} from './savepoints';
import { TERMINAL_STATES } from './simulated-job';

type TriggerKind = 'stop' | 'savepoint';

/** One triggered operation, as it was asked for. */
interface Trigger {
  jid: string;
  triggerId: string;
  kind: TriggerKind;
  request: SavepointRequest;
  directory: string;
  triggered: number;
}

export function savepointRoutes(jm: JobManagerState, faults: Readonly<Faults>): Route[] {
  const trigger = async (req: IncomingMessage, jid: string, kind: TriggerKind) =>
    triggerSavepoint(jm, faults, jid, await readText(req), kind);
  return [
    ['POST', '/jobs/:jobid/stop', (req, p) => trigger(req, p.jobid ?? '', 'stop')],
    ['POST', '/jobs/:jobid/savepoints', (req, p) => trigger(req, p.jobid ?? '', 'savepoint')],
    ['GET', '/jobs/:jobid/savepoints/:triggerid', (_req, p) => savepointStatus(jm, p.jobid ?? '', p.triggerid ?? '')],
    ['POST', '/savepoint-disposal', async (req) => triggerDisposal(jm, await readText(req))],
    ['GET', '/savepoint-disposal/:triggerid', (_req, p) => disposalStatus(jm, p.triggerid ?? '')],
  ];
}

/**
 * POST /savepoint-disposal: 200 with Flink's own trigger id (the request takes none). The
 * files go after `savepointMs`: a local (file:) savepoint's directory is really removed, and
 * one that is not there fails as Flink fails it.
 */
function triggerDisposal(jm: JobManagerState, text: string): Reply {
  const read = readBody(text, DISPOSAL_BODY, readDisposalRequest);
  if ('badRequest' in read) return { status: 400, body: read.badRequest };
  const path = read.value.path;
  if (!path) return { status: 400, body: restHandlerError('Field savepoint-path must not be null.') };
  const triggerId = randomHexId();
  const operation: SavepointOperation = { status: 'IN_PROGRESS' };
  jm.disposals.set(triggerId, operation);
  jm.disposalLog.push(path);
  jm.timers.later(jm.timing.savepointMs, () => {
    const failure = removeLocalSavepoint(path);
    if (failure) operation.failure = failure;
    operation.status = 'COMPLETED';
  });
  return { status: 200, body: { 'request-id': triggerId } };
}

function disposalStatus(jm: JobManagerState, triggerId: string): Reply {
  const operation = jm.disposals.get(triggerId);
  if (!operation)
    return { status: 404, body: notFoundError(`Operation not found under key: OperationKey{triggerId=${triggerId}}`) };
  if (operation.status === 'IN_PROGRESS' || operation.failure) return { status: 200, body: operationResult(operation) };
  // A successful disposal has no result: `operation` is null.
  return { status: 200, body: { status: { id: 'COMPLETED' }, operation: null } };
}

function triggerSavepoint(
  jm: JobManagerState,
  faults: Readonly<Faults>,
  jid: string,
  text: string,
  kind: TriggerKind,
): Reply {
  const requestClass = kind === 'stop' ? STOP_BODY : SAVEPOINT_BODY;
  const read = readBody(text, requestClass, (body) => readSavepointRequest(body, kind));
  if ('badRequest' in read) return { status: 400, body: read.badRequest };
  const request = read.value;
  const directory = request.targetDirectory ?? jm.savepointDir;
  if (!directory) {
    const property = kind === 'stop' ? 'targetDirectory' : 'target-directory';
    return { status: 400, body: savepointDirMissingError(jm.flavor.savepointDirKey, property) };
  }
  const triggerId = request.triggerId ?? randomHexId();
  const key = `${jid}/${triggerId}`;
  const known = jm.savepoints.has(key);
  jm.triggerLog.push({ jobId: jid, triggerId, kind, at: Date.now(), created: !known });
  // Same (job, triggerId): the same operation, not a second savepoint.
  if (known) return { status: 202, body: { 'request-id': triggerId } };
  const operation: SavepointOperation = { status: 'IN_PROGRESS' };
  jm.savepoints.set(key, operation);
  const asked: Trigger = { jid, triggerId, kind, request, directory, triggered: Date.now() };
  // An unknown job still gets its 202; the failure shows in the status poll.
  jm.timers.later(jm.timing.savepointMs, () => void completeSavepoint(jm, faults, asked, operation));
  return { status: 202, body: { 'request-id': triggerId } };
}

async function completeSavepoint(
  jm: JobManagerState,
  faults: Readonly<Faults>,
  { jid, triggerId, kind, request, directory, triggered }: Trigger,
  operation: SavepointOperation,
): Promise<void> {
  if (faults.savepointHook) await faults.savepointHook(jid, triggerId);
  // A restart() meanwhile forgot the operation: nothing is left to complete.
  if (jm.savepoints.get(`${jid}/${triggerId}`) !== operation) return;
  const job = jm.jobs.get(jid);
  if (!job || TERMINAL_STATES.has(job.state)) {
    operation.failure = jobNotFoundCause(jid);
  } else if (job.state !== 'RUNNING') {
    operation.failure = tasksNotRunningCause(job.spec.name, jid);
  } else if (faults.savepointFailure) {
    // The job keeps running: a failed stop-with-savepoint does not stop it.
    operation.failure = faults.savepointFailure;
  } else {
    operation.location = savepointLocation(directory, jid);
    createLocalDirectory(operation.location);
    job.recordSavepoint(operation.location, triggered);
    const ends = kind === 'stop' ? 'FINISHED' : request.cancelJob ? 'CANCELED' : null;
    if (ends) job.moveTo(ends);
  }
  operation.status = 'COMPLETED';
}

function savepointStatus(jm: JobManagerState, jid: string, triggerId: string): Reply {
  const operation = jm.savepoints.get(`${jid}/${triggerId}`);
  if (!operation) return { status: 404, body: unknownTriggerError(triggerId, jid) };
  return { status: 200, body: operationResult(operation) };
}
