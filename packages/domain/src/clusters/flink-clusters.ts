import type { FlinkGateway } from './flink-gateway';

/** A cluster as the worker talks to it. */
export interface ClusterGateway {
  cluster: string;
  flink: FlinkGateway;
  /** Where its stop-with-savepoint writes: the cluster's own directory, else the service's; null: Flink's default. */
  savepointDir: string | null;
}

/**
 * The Flink clusters the worker talks to, by name. Throws PermanentFailure for a cluster
 * that no longer exists, TransientFailure when the registry cannot be read.
 */
export interface FlinkClusters {
  gatewayFor(cluster: string): Promise<ClusterGateway>;
}
