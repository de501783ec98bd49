/**
 * The job resources: GET /jobs, GET /jobs/overview, GET /jobs/:jobid/status, GET /jobs/:jobid,
 * PATCH /jobs/:jobid (cancel), GET /jobs/:jobid/exceptions and GET /jobs/:jobid/checkpoints.
 */
import { EMPTY, type Reply, type Route } from './http-util';
import {
  cancelNotFoundError,
  cancelTerminalError,
  jobNotFoundError,
  jobStatusNotFoundError,
  parameterError,
  STOP_MODE_REMOVED_ERROR,
} from './java-errors';
import type { JobManagerState } from './jobmanager-state';
import { TERMINAL_STATES } from './simulated-job';

/** `maxExceptions` default of JobExceptionsHandler. */
const MAX_EXCEPTIONS = 20;

// Static routes first: like Flink's router, /jobs/overview wins over /jobs/:jobid.
export function jobRoutes(jm: JobManagerState): Route[] {
  return [
    ['GET', '/jobs', () => listJobs(jm)],
    ['GET', '/jobs/overview', () => jobsOverview(jm)],
    ['GET', '/jobs/:jobid/status', (_req, p) => jobStatus(jm, p.jobid ?? '')],
    ['GET', '/jobs/:jobid', (_req, p) => jobDetails(jm, p.jobid ?? '')],
    ['PATCH', '/jobs/:jobid', (_req, p, url) => cancel(jm, p.jobid ?? '', url)],
    ['GET', '/jobs/:jobid/exceptions', (_req, p, url) => exceptions(jm, p.jobid ?? '', url)],
    ['GET', '/jobs/:jobid/checkpoints', (_req, p) => checkpoints(jm, p.jobid ?? '')],
  ];
}

function listJobs(jm: JobManagerState): Reply {
  return { status: 200, body: { jobs: [...jm.jobs.values()].map((j) => ({ id: j.jid, status: j.state })) } };
}

function jobsOverview(jm: JobManagerState): Reply {
  const now = Date.now();
  return { status: 200, body: { jobs: Array.from(jm.jobs.values(), (j) => j.overview(jm.flavor, now)) } };
}

/** JobStatusInfo; an unknown job is not a 404 here (see jobStatusNotFoundError). */
function jobStatus(jm: JobManagerState, jid: string): Reply {
  const job = jm.jobs.get(jid);
  return job ? { status: 200, body: { status: job.state } } : { status: 500, body: jobStatusNotFoundError(jid) };
}

function jobDetails(jm: JobManagerState, jid: string): Reply {
  const job = jm.jobs.get(jid);
  return job ? { status: 200, body: job.details(jm.flavor) } : { status: 404, body: jobNotFoundError(jid) };
}

function cancel(jm: JobManagerState, jid: string, url: URL): Reply {
  const mode = url.searchParams.get('mode');
  if (mode !== null && !['CANCEL', 'STOP'].includes(mode.toUpperCase())) {
    return { status: 400, body: parameterError('query', 'mode', mode) };
  }
  if (mode?.toUpperCase() === 'STOP') return { status: 308, body: STOP_MODE_REMOVED_ERROR };
  const job = jm.jobs.get(jid);
  if (!job) return { status: 404, body: cancelNotFoundError(jid) };
  // Cancelling a cancelled job is acknowledged again (Dispatcher.cancelJob).
  if (job.state === 'CANCELED' || job.state === 'CANCELLING') return { status: 202, body: EMPTY };
  if (TERMINAL_STATES.has(job.state)) return { status: 409, body: cancelTerminalError(job.state) };
  job.clearTimers();
  job.moveTo('CANCELLING');
  job.later(jm.timing.cancelMs, () => job.moveTo('CANCELED'));
  return { status: 202, body: EMPTY };
}

function exceptions(jm: JobManagerState, jid: string, url: URL): Reply {
  const job = jm.jobs.get(jid);
  if (!job) return { status: 404, body: jobNotFoundError(jid) };
  const max = url.searchParams.get('maxExceptions');
  if (max !== null && !/^\d+$/.test(max)) return { status: 400, body: parameterError('query', 'maxExceptions', max) };
  return { status: 200, body: job.exceptions(jm.flavor, max === null ? MAX_EXCEPTIONS : Number(max)) };
}

function checkpoints(jm: JobManagerState, jid: string): Reply {
  const job = jm.jobs.get(jid);
  return job ? { status: 200, body: job.checkpoints() } : { status: 404, body: jobNotFoundError(jid) };
}
