import type { Execution } from './execution';
import type { Job } from '../jobs/job';
import type { Clock } from '../shared/clock';
import type { ExecutionRepository } from './execution-repository';
import type { FlinkClusters } from '../clusters/flink-clusters';
import type { JobRepository } from '../jobs/job-repository';
import type { Logger } from '../shared/logger';
import type { SavepointRepository } from '../savepoints/savepoint-repository';
import type { WorkQueue } from '../shared/work-queue';
import { restartsOn, type RestartDecision, type RestorePoint } from './restart-policy';
import { failureText } from '../shared/failure-text';
import { releaseQueued } from './queue-submission';
import { describeWindow, type StopWindows } from '../schedules/stop-windows';

export interface RestartAfterFailureDeps {
  jobs: JobRepository;
  executions: ExecutionRepository;
  savepoints: SavepointRepository;
  clusters: FlinkClusters;
  queue: WorkQueue;
  clock: Clock;
  log: Logger;
  /** The job's stop windows: no restart inside one. */
  windows?: StopWindows;
}

/**
 * Applies a job's restart policy to one of its executions that ended FAILED or LOST after
 * running on Flink: a new execution (trigger `restart`) that restores from the newest state
 * the job has (`restorePoint`), recorded with why it was chosen, or records why there is none (past `maxRestarts`
 * within the window, job disabled, another execution active, the job inside its stop window).
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
  private readonly windows?: StopWindows;

  constructor(deps: RestartAfterFailureDeps) {
    ({
      jobs: this.jobs,
      executions: this.executions,
      savepoints: this.savepoints,
      clusters: this.clusters,
      queue: this.queue,
      clock: this.clock,
      log: this.log,
      windows: this.windows,
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
    for (const failure of undecided) {
      try {
        await this.run(failure.id);
      } catch (error) {
        // One failure that cannot be decided yet (its checkpoints unreadable) holds up no other.
        this.log.warn({ executionId: failure.id, reason: failureText(error) }, 'restart not decided yet');
      }
    }
    return undecided.length;
  }

  private async decide(failed: Execution, job: Job): Promise<RestartDecision> {
    const policy = job.restartPolicy;
    const now = this.clock.now();
    if (!job.enabled) return { decision: 'skipped', reason: 'The job is disabled.', decidedAt: now };
    // Not held for the window's end: a window ends at a tick of the job's start schedule, which starts it.
    const window = await this.windows?.openNow(job.id);
    if (window)
      return {
        decision: 'skipped',
        reason: `Not restarted: ${describeWindow(window)}; its start schedule ${window.startScheduleId} starts the job then.`,
        decidedAt: now,
      };
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
        savepointId: restoreFrom.savepointId ?? null,
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
        await releaseQueued(this.executions, this.log, outcome.execution.id);
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
      case 'savepoint_disposed':
        return {
          decision: 'skipped',
          reason: `Not restarted: the state it would restore from (${restoreFrom.path}) is being disposed of. Start the job by hand, from another savepoint.`,
          decidedAt: now,
        };
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
    await releaseQueued(this.executions, this.log, restart.id);
    // Recomputed from the same failed job, so the same point; the row's path is the fact.
    return {
      decision: 'restarted',
      executionId: restart.id,
      restoreFrom: { ...restoreFrom, path: restart.savepointPath },
      decidedAt: now,
    };
  }

  /**
   * The newest state the job has, so that a restart never rewinds it: the failed run's
   * latest completed checkpoint, else whichever is newer of the job's newest completed
   * savepoint and what the failed run itself restored from. `latest-savepoint` asks for the
   * job's newest savepoint first. Checkpoints Flink cannot be asked about right now are not
   * "none": the decision waits (the sweep asks again) rather than restoring older state.
   */
  private async restorePoint(failed: Execution, job: Job): Promise<RestorePoint> {
    const from = job.restartPolicy.restoreFrom;
    if (from === 'none') return { kind: 'none', path: null, reason: 'The restart policy restores from nothing.' };
    const savepoint = await this.savepoints.latestRestorable(job.id);
    if (from === 'latest-savepoint') {
      if (savepoint?.location)
        return this.fromSavepoint(
          savepoint.id,
          savepoint.location,
          'the newest savepoint of the job (restoreFrom latest-savepoint)',
        );
      return this.ownRestorePoint(failed, 'The job has no completed savepoint');
    }
    if (failed.flinkJobId) {
      const checkpoint = await this.latestCheckpoint(failed);
      if (checkpoint)
        return {
          kind: 'checkpoint',
          path: checkpoint,
          reason: `The latest completed checkpoint of Flink job ${failed.flinkJobId}.`,
        };
    }
    // The state the failed run began with is as new as the moment that run was created (its
    // restore point was the newest then); a savepoint completed since is newer.
    const savepointTime = savepoint ? (savepoint.completedAt ?? savepoint.createdAt).getTime() : -Infinity;
    const ownIsNewer =
      failed.savepointPath !== null &&
      (failed.savepointId === savepoint?.id || savepointTime <= failed.createdAt.getTime());
    if (savepoint?.location && !ownIsNewer)
      return this.fromSavepoint(
        savepoint.id,
        savepoint.location,
        failed.savepointPath
          ? 'No completed checkpoint; the newest savepoint of the job is newer than what the failed run restored from'
          : 'No completed checkpoint and the failed run restored from nothing; the newest savepoint of the job',
      );
    return this.ownRestorePoint(failed, 'No completed checkpoint and no newer savepoint');
  }

  private fromSavepoint(id: string, path: string, why: string): RestorePoint {
    return { kind: 'savepoint', path, savepointId: id, reason: `${why}: savepoint ${id}.` };
  }

  private ownRestorePoint(failed: Execution, why: string): RestorePoint {
    if (failed.savepointPath)
      return {
        kind: 'restored',
        path: failed.savepointPath,
        ...(failed.savepointId ? { savepointId: failed.savepointId } : {}),
        reason: `${why}: what the failed run restored from.`,
      };
    return { kind: 'none', path: null, reason: `${why}, and the failed run restored from nothing.` };
  }

  /** Null when Flink has no completed, retained checkpoint of the job (or no longer knows it); throws when it cannot say. */
  private async latestCheckpoint(failed: Execution): Promise<string | null> {
    try {
      const { flink } = await this.clusters.gatewayFor(failed.cluster);
      return await flink.latestCheckpoint(failed.flinkJobId ?? '');
    } catch (error) {
      throw new RestorePointUnknown(
        `The checkpoints of Flink job ${failed.flinkJobId} could not be read (${failureText(error)}); the restart is decided once they can be.`,
      );
    }
  }
}

/** The newest state of a failed job cannot be known yet: decide its restart later, never from older state. */
export class RestorePointUnknown extends Error {
  override readonly name = 'RestorePointUnknown';
}
