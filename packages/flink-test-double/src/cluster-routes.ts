/**
 * Cluster information: GET /config (DashboardConfiguration), GET /overview
 * (ClusterOverviewWithVersion) and GET /jobmanager/config (ClusterConfigurationInfo).
 */
import type { Reply, Route } from './http-util';
import type { JobManagerState } from './jobmanager-state';
import { TERMINAL_STATES } from './simulated-job';

export function clusterRoutes(jm: JobManagerState): Route[] {
  return [
    ['GET', '/config', () => config(jm)],
    ['GET', '/overview', () => overview(jm)],
    ['GET', '/jobmanager/config', () => jobManagerConfig(jm)],
  ];
}

function config(jm: JobManagerState): Reply {
  return {
    status: 200,
    body: {
      'refresh-interval': 3000,
      'timezone-name': 'Coordinated Universal Time',
      'timezone-offset': 0,
      'flink-version': jm.version,
      'flink-revision': 'test-double @ 1970-01-01T00:00:00+00:00',
      features: { 'web-submit': true, 'web-cancel': true, 'web-rescale': false, 'web-history': false },
    },
  };
}

/**
 * One TaskManager holding every slot; a job that has not ended holds as many slots as its
 * parallelism (the cluster's default when it named none). One pass over the jobs.
 */
function overview(jm: JobManagerState): Reply {
  let active = 0;
  let slotsUsed = 0;
  let finished = 0;
  let cancelled = 0;
  let failed = 0;
  for (const job of jm.jobs.values()) {
    if (job.state === 'FINISHED') finished++;
    else if (job.state === 'CANCELED') cancelled++;
    else if (job.state === 'FAILED') failed++;
    else if (!TERMINAL_STATES.has(job.state)) {
      active++;
      slotsUsed += jm.slotsOf(job);
    }
  }
  const slotsTotal = jm.cluster.slots;
  // Like a real 1.20.5 / 2.3.0, `slots-free-and-blocked` and `taskmanagers-blocked` are left
  // out while zero (NON_DEFAULT), and the double blocks no TaskManager.
  return {
    status: 200,
    body: {
      taskmanagers: 1,
      'slots-total': slotsTotal,
      'slots-available': Math.max(0, slotsTotal - slotsUsed),
      'jobs-running': active,
      'jobs-finished': finished,
      'jobs-cancelled': cancelled,
      'jobs-failed': failed,
      'flink-version': jm.version,
      'flink-commit': 'test-double',
    },
  };
}

/** A few of the keys a real JobManager lists; every value is a string, as in Flink. */
function jobManagerConfig(jm: JobManagerState): Reply {
  const port = /:(\d+)$/.exec(jm.baseUrl)?.[1] ?? '8081';
  const entries: [string, string | null][] = [
    ['jobmanager.rpc.address', 'localhost'],
    ['jobmanager.rpc.port', '6123'],
    ['rest.address', '127.0.0.1'],
    ['rest.port', port],
    ['taskmanager.numberOfTaskSlots', String(jm.cluster.slots)],
    ['parallelism.default', jm.cluster.defaultParallelism === null ? null : String(jm.cluster.defaultParallelism)],
    [jm.flavor.savepointDirKey, jm.savepointDir],
    ['web.submit.enable', 'true'],
    ['jobstore.expiration-time', '3600'],
  ];
  return {
    status: 200,
    body: entries.flatMap(([key, value]) => (value === null ? [] : [{ key, value }])),
  };
}
