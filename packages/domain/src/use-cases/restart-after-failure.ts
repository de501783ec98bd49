import type { Execution } from '../execution';
import type { Job } from '../job';
import type { Clock } from '../ports/clock';
import type { ExecutionRepository } from '../ports/execution-repository';
import type { FlinkClusters } from '../ports/flink-clusters';
import type { JobRepository } from '../ports/job-repository';
import type { Logger } from '../ports/logger';
import type { SavepointRepository } from '../ports/savepoint-repository';
import type { WorkQueue } from '../ports/work-queue';
import { restartsOn, type RestartDecision, type RestorePoint } from '../restart-policy';
import { failureText } from './failure-text';

export interface RestartAfterFailureDeps {
  jobs: JobRepository;
  executions: ExecutionRepository;
  savepoints: SavepointRepository;
  clusters: FlinkClusters;
  queue: WorkQueue;
  clock: Clock;
  log: Logger;
}

/**
 * Applies a job's restart policy to one of its executions that ended FAILED or LOST after
 * running on Flink: a new execution (trigger `restart`) that restores from the failed
 * job's latest retained checkpoint, or records why there is none (past `maxRestarts`
 * within the window, job disabled, another execution active).
 *
 * Idempotent and crash-safe: the observer calls it as it records the end, and a sweep
 * calls it again for any failure still without a decision. The unique index on
 * `restart_of` lets only one restart per failure exist; the decision is written last.
 */
export class RestartAfterFailure {
  private readonly jobs: JobRepository;
  private readonly executions: ExecutionRepository;
  private readonly savepoints: SavepointRepository;
  private readonly clusters: FlinkClusters;
  private readonly queue: WorkQueue;
  private readonly clock: Clock;
  private readonly log: Logger;

  constructor(deps: RestartAfterFailureDeps) {
    ({
      jobs: this.jobs,
      executions: this.executions,
      savepoints: this.savepoints,
      clusters: this.clusters,
      queue: this.queue,
      clock: this.clock,
      log: this.log,
    } = deps);
  }

  /** Null when the policy has nothing to say about this execution. */
  async run(executionId: string): Promise<RestartDecision | null> {
    const failed = await this.executions.get(executionId);
    if (!failed || (failed.status !== 'FAILED' && failed.status !== 'LOST')) return null;
    if (failed.restartDecision) return failed.restartDecision;
    // A submission that never reached RUNNING was already retried by the queue.
    if (!failed.startedAt) return null;
    const job = await this.jobs.get(failed.jobId);
    if (!job || !restartsOn(job.restartPolicy, failed.status)) return null;
    const decision = await this.decide(failed, job);
    await this.executions.recordRestartDecision(failed.id, decision);
    const log = this.log.child({ executionId: failed.id, jobId: job.id });
    if (decision.decision === 'restarted')
      log.info({ restartId: decision.executionId, restoreFrom: decision.restoreFrom }, 'failed execution restarted');
    else log.warn({ decision: decision.decision, reason: decision.reason }, 'failed execution not restarted');
    return decision;
  }

  /** Decides every failure since `endedAfter` left undecided (its observer crashed, or PostgreSQL was down). */
  async sweep(endedAfter: Date, limit = 100): Promise<number> {
    const undecided = await this.executions.listUndecidedFailures(endedAfter, limit);
    for (const failure of undecided) await this.run(failure.id);
    return undecided.length;
  }

  private async decide(failed: Execution, job: Job): Promise<RestartDecision> {
    const policy = job.restartPolicy;
    const now = this.clock.now();
    if (!job.enabled) return { decision: 'skipped', reason: 'The job is disabled.', decidedAt: now };
    const since = new Date(now.getTime() - policy.withinMinutes * 60_000);
    const restarts = await this.executions.countRestarts(job.id, since, failed.id);
    if (restarts >= policy.maxRestarts) {
      return {
        decision: 'exhausted',
        reason: `Not restarted: ${restarts} restart${restarts === 1 ? '' : 's'} in the last ${policy.withinMinutes} minutes already (maxRestarts ${policy.maxRestarts}).`,
        decidedAt: now,
      };
    }
    const restoreFrom = await this.restorePoint(failed, job);
    const backoffMs = policy.backoffSeconds * 1000;
    const outcome = await this.executions.insert(
      {
        jobId: job.id,
        trigger: 'restart',
        status: 'QUEUED',
        parallelism: failed.parallelism,
        savepointPath: restoreFrom.path,
        allowNonRestoredState: failed.allowNonRestoredState,
        scheduledFor: null,
        restartOf: failed.id,
        notBefore: new Date(now.getTime() + backoffMs),
      },
      { exclusive: true },
    );
    switch (outcome.kind) {
      case 'created':
        await this.queue.enqueue({ kind: 'submit', executionId: outcome.execution.id }, { delayMs: backoffMs });
        return { decision: 'restarted', executionId: outcome.execution.id, restoreFrom, decidedAt: now };
      // A previous try created the restart and stopped short of recording so: it is found by
      // the unique index (ended since), or is the active execution.
      case 'duplicate_restart':
        return this.resend(outcome.restart, restoreFrom, backoffMs, now);
      case 'active':
        if (outcome.active.restartOf === failed.id) return this.resend(outcome.active, restoreFrom, backoffMs, now);
        return {
          decision: 'skipped',
          reason: `Not restarted: execution ${outcome.active.id} is already ${outcome.active.status}.`,
          decidedAt: now,
        };
      case 'job_missing':
        return { decision: 'skipped', reason: 'The job was deleted.', decidedAt: now };
      case 'duplicate_tick':
      case 'duplicate_upgrade':
      case 'job_disabled': // requireEnabled is not asked for
        throw new Error(`a restart cannot end as ${outcome.kind}`);
    }
  }

  /** The restart an earlier try made: its message sent again (idempotent; the row's notBefore keeps the backoff). */
  private async resend(
    restart: Execution | null,
    restoreFrom: RestorePoint,
    backoffMs: number,
    now: Date,
  ): Promise<RestartDecision> {
    if (!restart) return { decision: 'skipped', reason: 'Its restart was deleted.', decidedAt: now };
    await this.queue.enqueue({ kind: 'submit', executionId: restart.id }, { delayMs: backoffMs });
    // Recomputed from the same failed job, so the same point; the row's path is the fact.
    return {
      decision: 'restarted',
      executionId: restart.id,
      restoreFrom: { ...restoreFrom, path: restart.savepointPath },
      decidedAt: now,
    };
  }

  /**
   * The policy's restore point, falling back along checkpoint → what the failed execution
   * restored from → the job's latest savepoint → nothing: a failure before the first
   * checkpoint still resumes from the state the failed run started with.
   */
  private async restorePoint(failed: Execution, job: Job): Promise<RestorePoint> {
    const from = job.restartPolicy.restoreFrom;
    if (from === 'none') return { kind: 'none', path: null };
    if (from === 'latest-checkpoint' && failed.flinkJobId) {
      try {
        const { flink } = await this.clusters.gatewayFor(failed.cluster);
        const path = await flink.latestCheckpoint(failed.flinkJobId);
        if (path) return { kind: 'checkpoint', path };
      } catch (error) {
        this.log.warn(
          { executionId: failed.id, reason: failureText(error) },
          'checkpoints of the failed job could not be read; falling back to its savepoints',
        );
      }
    }
    if (failed.savepointPath) return { kind: 'restored', path: failed.savepointPath };
    const latest = await this.savepoints.latestRestorable(job.id);
    return latest?.location ? { kind: 'savepoint', path: latest.location } : { kind: 'none', path: null };
  }
}
