import { endedStatusFor, type Execution } from '../execution';
import type { ExecutionRepository } from '../ports/execution-repository';
import type { FlinkGateway } from '../ports/flink-gateway';
import type { FlinkClusters } from '../ports/flink-clusters';
import type { Clock } from '../ports/clock';
import type { Logger } from '../ports/logger';
import type { PollResult } from '../ports/work-handlers';
import { PermanentFailure, TransientFailure } from '../errors';
import { failureText } from './failure-text';

/**
 * Follows a RUNNING execution on Flink until it ends. The queue adapter keeps one poll
 * message per execution, so exactly one worker polls it at a time.
 */
export interface TrackOnFlinkDeps {
  executions: ExecutionRepository;
  /** Each execution is followed on the cluster it records. */
  clusters: FlinkClusters;
  clock: Clock;
  log: Logger;
  pollIntervalMs: number;
}

export class TrackOnFlink {
  private readonly executions: ExecutionRepository;
  private readonly clusters: FlinkClusters;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly pollIntervalMs: number;

  constructor(deps: TrackOnFlinkDeps) {
    ({
      executions: this.executions,
      clusters: this.clusters,
      clock: this.clock,
      log: this.log,
      pollIntervalMs: this.pollIntervalMs,
    } = deps);
  }

  async poll(executionId: string): Promise<PollResult> {
    const execution = await this.executions.get(executionId);
    const flinkJobId = execution?.flinkJobId;
    if (!execution || execution.status !== 'RUNNING' || !flinkJobId) return null;
    try {
      const { flink } = await this.clusters.gatewayFor(execution.cluster);
      return await this.observe(flink, execution, flinkJobId);
    } catch (error) {
      if (error instanceof PermanentFailure) {
        // Its cluster is gone from the registry: nothing can follow the job any more.
        await this.executions.transition(
          execution.id,
          'LOST',
          { errorMessage: failureText(error), finishedAt: this.clock.now() },
          ['RUNNING'],
        );
        this.log.warn({ executionId, cluster: execution.cluster, reason: failureText(error) }, 'execution lost');
        return null;
      }
      if (!(error instanceof TransientFailure)) throw error;
      // Unknown, not wrong: keep the status, say Flink cannot be reached, poll more slowly.
      // Debug only: the Flink client logs the outage once, not once per execution and poll.
      this.log.debug({ executionId, reason: failureText(error) }, 'Flink unreachable while tracking');
      await this.executions.patch(executionId, ['RUNNING'], { flinkState: 'UNREACHABLE' });
      return this.pollIntervalMs * 3;
    }
  }

  private async observe(flink: FlinkGateway, execution: Execution, flinkJobId: string): Promise<PollResult> {
    const job = await flink.getJob(flinkJobId);
    const now = this.clock.now();
    if (!job) {
      await this.executions.transition(
        execution.id,
        'LOST',
        {
          errorMessage: `Flink no longer knows job ${flinkJobId} (JobManager restarted without HA, or the job expired).`,
          finishedAt: now,
          flinkState: null,
        },
        ['RUNNING'],
      );
      this.log.warn({ executionId: execution.id, flinkJobId: flinkJobId }, 'execution lost');
      return null;
    }
    const ended = endedStatusFor(job.state);
    if (ended) {
      const errorMessage = ended === 'FAILED' ? await this.rootCause(flink, flinkJobId) : null;
      await this.executions.transition(execution.id, ended, { flinkState: job.state, finishedAt: now, errorMessage }, [
        'RUNNING',
      ]);
      this.log.info({ executionId: execution.id, status: ended }, 'execution ended');
      return null;
    }
    if (job.state !== execution.flinkState) {
      // Knowing again clears what the unknown state said.
      const resolved = execution.flinkState === 'UNKNOWN' || execution.flinkState === 'UNREACHABLE';
      await this.executions.patch(execution.id, ['RUNNING'], {
        flinkState: job.state,
        ...(resolved ? { errorMessage: null } : {}),
      });
    }
    return this.pollIntervalMs;
  }

  private async rootCause(flink: FlinkGateway, flinkJobId: string): Promise<string> {
    try {
      return (await flink.failureCause(flinkJobId)) ?? 'Flink reports the job FAILED without an exception.';
    } catch (error) {
      return `Flink reports the job FAILED; its exceptions could not be read: ${failureText(error)}`;
    }
  }
}
