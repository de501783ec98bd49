/** Cluster information: GET /config (DashboardConfiguration) and GET /overview (ClusterOverview). */
import type { Reply, Route } from './http-util';
import type { JobManagerState } from './jobmanager-state';
import { TERMINAL_STATES } from './simulated-job';

/** One TaskManager's slots; enough that the jobs the tests run always fit. */
const SLOTS_TOTAL = 64;

export function clusterRoutes(jm: JobManagerState): Route[] {
  return [
    ['GET', '/config', () => config(jm)],
    ['GET', '/overview', () => overview(jm)],
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

function overview(jm: JobManagerState): Reply {
  const jobs = [...jm.jobs.values()];
  const count = (state: string) => jobs.filter((j) => j.state === state).length;
  const active = jobs.filter((j) => !TERMINAL_STATES.has(j.state));
  const slotsUsed = active.reduce((sum, j) => sum + (j.spec.parallelism ?? 1), 0);
  return {
    status: 200,
    body: {
      taskmanagers: 1,
      'slots-total': SLOTS_TOTAL,
      'slots-available': Math.max(0, SLOTS_TOTAL - slotsUsed),
      'slots-free-and-blocked': 0,
      'taskmanagers-blocked': 0,
      'jobs-running': active.length,
      'jobs-finished': count('FINISHED'),
      'jobs-cancelled': count('CANCELED'),
      'jobs-failed': count('FAILED'),
      'flink-version': jm.version,
      'flink-commit': 'test-double',
    },
  };
}
