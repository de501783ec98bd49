import {
  ClusterNotFound,
  DependencyUnavailable,
  FlinkJobEnded,
  FlinkJobManaged,
  FlinkJobNotFound,
  PermanentFailure,
  TransientFailure,
} from '../shared/errors';
import { ACTIVE_STATUSES, executionIdFor } from './execution';
import type { ClusterRepository } from '../clusters/cluster-repository';
import type { ExecutionRepository } from './execution-repository';
import type { ClusterGateway, FlinkClusters } from '../clusters/flink-clusters';
import type { CancelOutcome } from '../clusters/flink-gateway';

export interface CancelUnownedFlinkJobDeps {
  clusters: ClusterRepository;
  executions: ExecutionRepository;
  flink: FlinkClusters;
}

/**
 * Cancels a Flink job no active execution owns: one submitted by hand, by another copy of
 * the service, or one whose execution is recorded as ended while it still runs (drift). A
 * job an active execution owns is refused: stopping it here would leave the execution's
 * record behind, so it is stopped through its job.
 */
export class CancelUnownedFlinkJob {
  private readonly clusters: ClusterRepository;
  private readonly executions: ExecutionRepository;
  private readonly flink: FlinkClusters;

  constructor(deps: CancelUnownedFlinkJobDeps) {
    ({ clusters: this.clusters, executions: this.executions, flink: this.flink } = deps);
  }

  /** Answers the JobID as Flink was asked (lower case) once Flink accepted the cancel. */
  async run(cluster: string, flinkJobId: string): Promise<{ cluster: string; flinkJobId: string }> {
    const jobId = flinkJobId.toLowerCase();
    const executionId = executionIdFor(jobId);
    if (!executionId) throw new Error(`"${flinkJobId}" is not a Flink JobID (32 hex digits).`);
    if (!(await this.clusters.get(cluster))) throw new ClusterNotFound(cluster);
    const owners = await this.executions.statusesOf([executionId]);
    const active = owners.find((e) => ACTIVE_STATUSES.includes(e.status));
    if (active) throw new FlinkJobManaged(jobId, active.id, active.jobId, active.status);
    const gateway = await this.gatewayFor(cluster);
    let outcome: CancelOutcome;
    try {
      outcome = await gateway.flink.cancel(jobId);
    } catch (error) {
      if (error instanceof TransientFailure) throw new DependencyUnavailable('flink', error);
      throw error;
    }
    if (outcome === 'not_found') throw new FlinkJobNotFound(cluster, jobId);
    if (outcome === 'already_terminal') throw new FlinkJobEnded(cluster, jobId);
    return { cluster, flinkJobId: jobId };
  }

  private async gatewayFor(cluster: string): Promise<ClusterGateway> {
    try {
      return await this.flink.gatewayFor(cluster);
    } catch (error) {
      if (error instanceof PermanentFailure) throw new ClusterNotFound(cluster); // deleted since it was read
      if (error instanceof TransientFailure) throw new DependencyUnavailable('postgres', error);
      throw error;
    }
  }
}
