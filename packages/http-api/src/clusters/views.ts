import type { Cluster, ClusterObservation } from '@flink-orchestrator/domain';
import { iso, type Instant } from '../shared/views';

export interface ClusterView {
  name: string;
  url: string;
  /** Only the kind of credentials: they are write-only. */
  auth: { type: 'basic' | 'bearer' } | null;
  savepointDir: string | null;
  createdAt: Instant;
  updatedAt: Instant;
}

/** A cluster as the API shows it: never its credentials, only their type. */
export function clusterView(cluster: Cluster): ClusterView {
  return {
    name: cluster.name,
    url: cluster.url,
    auth: cluster.auth ? { type: cluster.auth.type } : null,
    savepointDir: cluster.savepointDir,
    createdAt: cluster.createdAt.toISOString(),
    updatedAt: cluster.updatedAt.toISOString(),
  };
}

export interface ClusterObservationView {
  reachable: boolean;
  /** When the current reachability began: up since, or down since. */
  since: Instant;
  observedAt: Instant;
  lastError: string | null;
  flinkVersion: string | null;
  taskManagers: number | null;
  slotsTotal: number | null;
  slotsFree: number | null;
  defaultParallelism: number | null;
  slotsObservedAt: Instant | null;
  runningJobs: number | null;
  unmanagedJobs: { flinkJobId: string; name: string; state: string; startTime: Instant | null }[];
  driftedExecutions: Pick<
    ClusterObservation['driftedExecutions'][number],
    'executionId' | 'jobId' | 'status' | 'flinkJobId' | 'flinkState'
  >[];
}

/** A cluster with what the observer last saw of it: null before its first observation. */
export interface ClusterDetailView extends ClusterView {
  observed: ClusterObservationView | null;
}

export function clusterObservationView(o: ClusterObservation): ClusterObservationView {
  const slots = o.slots;
  return {
    reachable: o.reachable,
    since: o.reachableSince.toISOString(),
    observedAt: o.observedAt.toISOString(),
    lastError: o.lastError,
    flinkVersion: slots?.flinkVersion ?? null,
    taskManagers: slots?.taskManagers ?? null,
    slotsTotal: slots?.slotsTotal ?? null,
    slotsFree: slots?.slotsFree ?? null,
    defaultParallelism: slots?.defaultParallelism ?? null,
    slotsObservedAt: iso(slots?.observedAt ?? null),
    runningJobs: o.runningJobs,
    unmanagedJobs: o.unmanagedJobs.map((j) => ({
      flinkJobId: j.flinkJobId,
      name: j.name,
      state: j.state,
      startTime: iso(j.startTime),
    })),
    driftedExecutions: o.driftedExecutions.map((d) => ({
      executionId: d.executionId,
      jobId: d.jobId,
      status: d.status,
      flinkJobId: d.flinkJobId,
      flinkState: d.flinkState,
    })),
  };
}

export function clusterDetailView(cluster: Cluster, observation: ClusterObservation | null): ClusterDetailView {
  return { ...clusterView(cluster), observed: observation ? clusterObservationView(observation) : null };
}
