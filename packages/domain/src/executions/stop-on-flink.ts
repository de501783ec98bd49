import { PermanentFailure, TransientFailure } from '../shared/errors';
import { endedStatusFor, type Execution, type ExecutionStatus, type StopRequest } from './execution';
import type { ExecutionRepository } from './execution-repository';
import type { FlinkGateway } from '../clusters/flink-gateway';
import type { ClusterGateway, FlinkClusters } from '../clusters/flink-clusters';
import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import type { SavepointRepository } from '../savepoints/savepoint-repository';
import { takenSince, type Savepoint } from '../savepoints/savepoint';
import type { Attempt } from '../shared/work-handlers';
import { errorFields, failureText } from '../shared/failure-text';

export interface StopSettings {
  pollIntervalMs: number;
  /** How long to wait for Flink to finish a cancel or a savepoint before retrying. */
  timeoutMs: number;
}

/**
 * A stable trigger id per stop request: a retried stop (another worker, after a crash)
 * asks Flink for the same savepoint operation instead of starting a second one.
 */
export function savepointTriggerId(flinkJobId: string, requestedAt: Date): string {
  return flinkJobId.slice(0, 20) + requestedAt.getTime().toString(16).padStart(12, '0').slice(-12);
}

/** Ends a STOPPING execution on Flink: cancel, or stop-with-savepoint and record where it went. */
export interface StopOnFlinkDeps {
  executions: ExecutionRepository;
  /** Each execution is stopped on the cluster it records; a savepoint goes to that cluster's directory. */
  clusters: FlinkClusters;
  /** A stop-with-savepoint is recorded there too (kind `stop`). */
  savepoints: SavepointRepository;
  clock: Clock;
  log: Logger;
  settings: StopSettings;
}

export class StopOnFlink {
  private readonly executions: ExecutionRepository;
  private readonly clusters: FlinkClusters;
  private readonly savepoints: SavepointRepository;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly settings: StopSettings;

  constructor(deps: StopOnFlinkDeps) {
    ({
      executions: this.executions,
      clusters: this.clusters,
      savepoints: this.savepoints,
      clock: this.clock,
      log: this.log,
      settings: this.settings,
    } = deps);
  }

  /** `requestedAt`: the stop request the message was sent for; a newer request supersedes it. */
  async run(executionId: string, attempt: Attempt, requestedAt?: Date): Promise<void> {
    const execution = await this.executions.get(executionId);
    if (!execution || execution.status !== 'STOPPING' || !execution.flinkJobId || !execution.stopRequest) return;
    const { flinkJobId, stopRequest } = execution;
    // A second stop (a cancel after a hung savepoint) has its own message; this one is spent.
    if (requestedAt && stopRequest.requestedAt.getTime() !== requestedAt.getTime()) return;
    const log = this.log.child({ executionId, jobId: execution.jobId, cluster: execution.cluster, flinkJobId });
    try {
      const target = await this.clusters.gatewayFor(execution.cluster);
      if (stopRequest.savepoint) await this.stopWithSavepoint(target, execution, flinkJobId, stopRequest, log);
      else await this.cancel(target.flink, execution.id, flinkJobId, log);
    } catch (error) {
      if (!(error instanceof PermanentFailure) && !attempt.final) {
        log.warn({ ...errorFields(error), attempt: attempt.number }, 'stop failed; will retry');
        throw error;
      }
      // The Flink job is presumably still running: say so (the observer follows it again),
      // unless a newer stop request took over meanwhile (the guard): that one decides.
      log.warn({ err: error }, 'stop failed for good');
      await this.executions.transition(
        executionId,
        'RUNNING',
        { errorMessage: `Stop failed: ${failureText(error)}`, stopRequest: null },
        ['STOPPING'],
        { stopRequestedAt: stopRequest.requestedAt },
      );
    }
  }

  private async cancel(flink: FlinkGateway, executionId: string, flinkJobId: string, log: Logger): Promise<void> {
    const outcome = await flink.cancel(flinkJobId);
    if (outcome === 'not_found') {
      await this.end(executionId, 'LOST', { errorMessage: `Flink no longer knows job ${flinkJobId}.` });
      return;
    }
    const state = await this.waitForEnd(flink, flinkJobId);
    await this.end(executionId, endedStatusFor(state) ?? 'CANCELLED', { flinkState: state });
    log.info({ flinkState: state }, 'execution cancelled');
  }

  private async stopWithSavepoint(
    { flink, savepointDir }: ClusterGateway,
    { id: executionId, jobId, cluster }: Pick<Execution, 'id' | 'jobId' | 'cluster'>,
    flinkJobId: string,
    request: StopRequest,
    log: Logger,
  ): Promise<void> {
    const triggerId = savepointTriggerId(flinkJobId, request.requestedAt);
    // Recorded before Flink is asked: a retry of this stop finds the same record.
    const record = await this.savepoints.begin({ jobId, executionId, cluster, kind: 'stop', triggerId });
    await flink.stopWithSavepoint(flinkJobId, {
      targetDirectory: savepointDir,
      drain: request.drain,
      triggerId,
    });
    const deadline = this.clock.now().getTime() + this.settings.timeoutMs;
    for (;;) {
      if (await this.superseded(executionId, request)) {
        log.info({}, 'stop-with-savepoint superseded by a newer stop request');
        await this.savepoints.fail(record.id, 'The stop was turned into a cancel before the savepoint completed.');
        return;
      }
      const status = await flink.savepointStatus(flinkJobId, triggerId);
      if (status.status === 'FAILED') {
        await this.savepoints.fail(record.id, status.reason);
        throw new PermanentFailure(`Savepoint failed: ${status.reason}`);
      }
      if (status.status === 'unknown') {
        await this.settleForgottenStop(flink, executionId, flinkJobId, record, log);
        return;
      }
      if (status.status === 'COMPLETED') {
        await this.stoppedWith(flink, executionId, flinkJobId, record.id, status.location, log);
        return;
      }
      if (this.clock.now().getTime() > deadline) throw new TransientFailure('Savepoint did not complete in time.');
      await this.clock.sleep(this.settings.pollIntervalMs);
    }
  }

  private async stoppedWith(
    flink: FlinkGateway,
    executionId: string,
    flinkJobId: string,
    savepointId: string,
    location: string,
    log: Logger,
  ): Promise<void> {
    await this.savepoints.complete(savepointId, location, this.clock.now());
    const state = await this.waitForEnd(flink, flinkJobId);
    await this.end(executionId, state === 'FINISHED' ? 'STOPPED' : (endedStatusFor(state) ?? 'STOPPED'), {
      flinkState: state,
      savepointLocation: location,
    });
    log.info({ savepointLocation: location }, 'execution stopped with savepoint');
  }

  /**
   * Flink no longer knows the stop's operation (its result expired, or a JobManager with HA
   * restarted): what the job and its checkpoint statistics say decides. FINISHED with a
   * savepoint taken since the stop was asked: the stop did complete. Still running: it never
   * happened, and the retry asks again (the same trigger id is a new operation now). Ended
   * otherwise: ended, without a savepoint.
   */
  private async settleForgottenStop(
    flink: FlinkGateway,
    executionId: string,
    flinkJobId: string,
    record: Savepoint,
    log: Logger,
  ): Promise<void> {
    const job = await flink.getJob(flinkJobId);
    if (!job) throw new TransientFailure(`Flink no longer knows the stop of job ${flinkJobId}, nor the job.`);
    const ended = endedStatusFor(job.state);
    if (!ended)
      throw new TransientFailure(`Flink no longer knows the stop of job ${flinkJobId}, which still runs: asked again.`);
    const listed = await flink.latestSavepoint(flinkJobId);
    if (job.state === 'FINISHED' && listed && takenSince(listed, record.createdAt)) {
      log.info({ savepointLocation: listed.location }, 'stop operation forgotten by Flink; its savepoint is listed');
      await this.stoppedWith(flink, executionId, flinkJobId, record.id, listed.location, log);
      return;
    }
    const why = `Flink no longer knows the stop operation, and job ${flinkJobId} ended ${job.state} with no savepoint taken since the stop was asked.`;
    await this.savepoints.fail(record.id, why);
    await this.end(executionId, job.state === 'FINISHED' ? 'STOPPED' : ended, {
      flinkState: job.state,
      errorMessage: why,
    });
  }

  /** The row moved on: ended, or a newer stop request (an escalation to cancel) replaced ours. */
  private async superseded(executionId: string, request: StopRequest): Promise<boolean> {
    const current = await this.executions.get(executionId);
    return (
      current?.status !== 'STOPPING' || current.stopRequest?.requestedAt.getTime() !== request.requestedAt.getTime()
    );
  }

  /** Polls Flink until the job is globally terminal. */
  private async waitForEnd(flink: FlinkGateway, flinkJobId: string): Promise<string> {
    const deadline = this.clock.now().getTime() + this.settings.timeoutMs;
    for (;;) {
      const job = await flink.getJob(flinkJobId);
      if (!job) return 'CANCELED';
      if (endedStatusFor(job.state)) return job.state;
      if (this.clock.now().getTime() > deadline)
        throw new TransientFailure(`Flink job ${flinkJobId} is still ${job.state}.`);
      await this.clock.sleep(Math.min(this.settings.pollIntervalMs, 500));
    }
  }

  private async end(
    executionId: string,
    status: ExecutionStatus,
    patch: { flinkState?: string; savepointLocation?: string; errorMessage?: string },
  ): Promise<void> {
    await this.executions.transition(executionId, status, { ...patch, finishedAt: this.clock.now() }, ['STOPPING']);
  }
}
