import type { Cluster, ClusterChanges, NewCluster } from './cluster';
import type { PageRequest } from '../jobs/job-repository';

export interface ClusterRepository {
  /** Throws ClusterNameTaken when the name is in use. */
  create(cluster: NewCluster): Promise<Cluster>;
  get(name: string): Promise<Cluster | null>;
  /** Oldest first, like jobs. */
  list(page: PageRequest): Promise<Cluster[]>;
  /** Null when there is no such cluster. */
  update(name: string, changes: ClusterChanges): Promise<Cluster | null>;
  /** False when there is no such cluster. Throws ClusterInUse while jobs name it. */
  delete(name: string): Promise<boolean>;
  /**
   * Creates the cluster with this URL, or sets the URL of the one that exists, in one
   * statement: processes starting together all succeed. Its other fields stay.
   */
  upsertUrl(name: string, url: string): Promise<Cluster>;
}
