/** A Flink session cluster: a JobManager REST endpoint known by a slug name. */

/** The cluster of a job that names none, and the one FLINK_JOBMANAGER_URL sets at start. */
export const DEFAULT_CLUSTER = 'default';

/** Credentials for a JobManager behind an authenticating proxy. Write-only: never shown or logged. */
export type ClusterAuth = { type: 'basic'; username: string; password: string } | { type: 'bearer'; token: string };

export interface NewCluster {
  /** A slug: lower-case letters, digits and "-", starting with a letter. */
  name: string;
  url: string;
  auth: ClusterAuth | null;
  /** Where stop-with-savepoint writes; null: the service's SAVEPOINT_DIR. */
  savepointDir: string | null;
}

export interface Cluster extends NewCluster {
  id: string;
  /** Goes up with every change; the worker rebuilds its client for the cluster when it moves. */
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/** `name` is the identity (jobs refer to it) and does not change. */
export type ClusterChanges = Partial<Omit<NewCluster, 'name'>>;
