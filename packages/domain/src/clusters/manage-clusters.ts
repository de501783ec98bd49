import { ClusterNotFound } from '../shared/errors';
import type { Cluster, ClusterChanges, NewCluster } from './cluster';
import type { ClusterRepository } from './cluster-repository';
import type { PageRequest } from '../jobs/job-repository';

/** Creating, reading, changing and deleting the Flink clusters jobs run on. */
export class ManageClusters {
  constructor(private readonly clusters: ClusterRepository) {}

  create(cluster: NewCluster): Promise<Cluster> {
    return this.clusters.create(cluster);
  }

  async get(name: string): Promise<Cluster> {
    const cluster = await this.clusters.get(name);
    if (!cluster) throw new ClusterNotFound(name);
    return cluster;
  }

  list(page: PageRequest): Promise<Cluster[]> {
    return this.clusters.list(page);
  }

  /** Absent fields keep their value. */
  async update(name: string, changes: ClusterChanges): Promise<Cluster> {
    const updated = await this.clusters.update(name, changes);
    if (!updated) throw new ClusterNotFound(name);
    return updated;
  }

  /** Refused (ClusterInUse) while jobs name the cluster. */
  async delete(name: string): Promise<void> {
    if (!(await this.clusters.delete(name))) throw new ClusterNotFound(name);
  }

  /** FLINK_JOBMANAGER_URL at start: the `default` cluster exists with that URL. */
  ensure(name: string, url: string): Promise<Cluster> {
    return this.clusters.upsertUrl(name, url);
  }
}
