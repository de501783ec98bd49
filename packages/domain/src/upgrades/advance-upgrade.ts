import { DependencyUnavailable, JobModified, UnknownCluster, ValidationFailedOnFlink } from '../shared/errors';
import { isTerminal, type Execution } from '../executions/execution';
import type { Clock } from '../shared/clock';
import type { ExecutionRepository } from '../executions/execution-repository';
import type { JobRepository } from '../jobs/job-repository';
import type { Logger } from '../shared/logger';
import type { SavepointRepository } from '../savepoints/savepoint-repository';
import type { UpgradePatch, UpgradeRepository } from './upgrade-repository';
import type { Attempt, PollResult } from '../shared/work-handlers';
import type { WorkQueue } from '../shared/work-queue';
import { holdsChanges, withChanges, type Upgrade, type UpgradeStep } from './upgrade';
import { failureText } from '../shared/failure-text';
import type { RequestStop } from '../executions/request-stop';
import { releaseQueued } from '../executions/queue-submission';
import type { FlinkCheck, JobDefinition } from '../clusters/validate-on-flink';

type Outcome = 'moved' | 'wait' | 'over';

/** A try that is not the last: what a caller without a queue (a test, a sweep) runs. */
const NOT_FINAL: Attempt = { number: 1, final: false };

export interface AdvanceUpgradeDeps {
  upgrades: UpgradeRepository;
  jobs: JobRepository;
  executions: ExecutionRepository;
  savepoints: SavepointRepository;
  stops: RequestStop;
  /**
   * ValidateOnFlink: puts the JAR on the cluster and has Flink plan the program, nothing
   * submitted. Refused: ValidationFailedOnFlink; Flink out of reach: DependencyUnavailable.
   */
  validation: { definition(definition: JobDefinition): Promise<Pick<FlinkCheck, 'cluster' | 'jarId'>> };
  queue: WorkQueue;
  clock: Clock;
  log: Logger;
  settings: {
    pollIntervalMs: number;
    /**
     * How long the new execution must run before the upgrade is COMPLETED: a state that does
     * not fit the new program fails the job moments after it was submitted.
     */
    confirmMs: number;
  };
}

/**
 * The workers' half of an upgrade: check the new definition on Flink, stop the old execution
 * (with a savepoint, or a cancel), change the job's definition, start the new execution from
 * that savepoint, and wait for it to run. The check comes first so that a program Flink
 * refuses fails the upgrade while the old execution still runs, untouched. Each step is written (compare-and-set on the step) before the next begins,
 * so a worker that crashes leaves the row at a step any worker resumes from; every step
 * is safe to run twice. A failure midway records where it stopped and how to recover.
 */
export class AdvanceUpgrade {
  constructor(private readonly deps: AdvanceUpgradeDeps) {}

  /**
   * Null when the upgrade is over; else when to look again. Throws what is worth a retry
   * (a dependency out of reach); `attempt.final` says no retry follows.
   */
  async run(upgradeId: string, attempt: Attempt = NOT_FINAL): Promise<PollResult> {
    for (;;) {
      const upgrade = await this.deps.upgrades.get(upgradeId);
      if (!upgrade || upgrade.status !== 'IN_PROGRESS') return null;
      const outcome = await this.step(upgrade, attempt);
      if (outcome === 'moved') continue;
      return outcome === 'wait' ? this.deps.settings.pollIntervalMs : null;
    }
  }

  private step(upgrade: Upgrade, attempt: Attempt): Promise<Outcome> {
    switch (upgrade.step) {
      case 'validating':
        return this.validating(upgrade, attempt);
      case 'stopping':
        return this.stopping(upgrade);
      case 'starting':
        return this.starting(upgrade);
      case 'confirming':
        return this.confirming(upgrade);
      case 'done':
        return Promise.resolve('over');
    }
  }

  /**
   * Flink plans the definition the upgrade would leave (the JAR uploaded if need be), so a
   * wrong entry class or a main() that throws fails the upgrade before anything is stopped.
   * Nothing here changes a thing but this row: run twice, it plans twice.
   */
  private async validating(upgrade: Upgrade, attempt: Attempt): Promise<Outcome> {
    const untouched = 'Nothing was stopped or changed: the old definition still runs.';
    const job = await this.deps.jobs.get(upgrade.jobId);
    if (!job) return this.fail(upgrade, 'The job was deleted before the upgrade began.', 'Nothing to recover.');
    // The definition to check is the one the start step would save: changes over that version.
    if (job.version !== upgrade.jobVersionBefore) {
      return this.fail(
        upgrade,
        `The job was changed by someone else before the upgrade began (version ${job.version}, the upgrade was based on ${upgrade.jobVersionBefore}).`,
        `${untouched} Upgrade again, based on version ${job.version}.`,
      );
    }
    const definition = withChanges(job, upgrade.changes);
    let accepted: Pick<FlinkCheck, 'cluster' | 'jarId'>;
    try {
      accepted = await this.deps.validation.definition(definition);
    } catch (error) {
      if (error instanceof ValidationFailedOnFlink) {
        const what = error.stage === 'jar' ? `its JAR ${definition.jarUrl}` : 'its program';
        return this.fail(
          upgrade,
          `Flink (cluster "${error.cluster}") refused the new definition, ${what}: ${error.message}`,
          `${untouched} Fix the definition (POST /api/v1/jobs/${upgrade.jobId}/validate checks the job as saved), then upgrade again.`,
        );
      }
      if (error instanceof UnknownCluster) return this.fail(upgrade, error.message, untouched);
      if (!(error instanceof DependencyUnavailable)) throw error;
      const cause = error.cause === undefined ? error.message : failureText(error.cause);
      if (attempt.final) {
        return this.fail(
          upgrade,
          `The new definition could not be checked on Flink: ${error.dependency} is unreachable (${cause}).`,
          `${untouched} Upgrade again once ${error.dependency} is back.`,
        );
      }
      this.deps.log.warn(
        { upgradeId: upgrade.id, jobId: upgrade.jobId, attempt: attempt.number, reason: cause },
        'the new definition could not be checked; will retry',
      );
      throw error;
    }
    return this.moveOn(
      upgrade,
      'validating',
      { step: 'stopping' },
      'validating',
      () => `Flink (cluster "${accepted.cluster}") planned the new definition from JAR ${accepted.jarId}.`,
    );
  }

  private async stopping(upgrade: Upgrade): Promise<Outcome> {
    const { executions, stops, savepoints } = this.deps;
    const old = upgrade.fromExecutionId ? await executions.get(upgrade.fromExecutionId) : null;
    if (!old) return this.fail(upgrade, 'The execution to upgrade is gone.', 'Nothing was changed. Upgrade again.');
    const withSavepoint = upgrade.mode === 'savepoint';
    if (old.status === 'RUNNING' && !old.stopRequest) {
      if (upgrade.stopRequestedAt) {
        return this.fail(
          upgrade,
          `The old execution ${old.id} could not be stopped: ${old.errorMessage ?? 'its stop failed'}.`,
          'Nothing was changed: the old definition still runs. Upgrade again, or with "mode": "cancel".',
        );
      }
      await stops.forExecution(old, { savepoint: withSavepoint });
      return this.moveOn(upgrade, 'stopping', { stopRequestedAt: this.deps.clock.now() }, 'stopping', () =>
        withSavepoint ? `Stop with a savepoint asked of execution ${old.id}.` : `Cancel asked of execution ${old.id}.`,
      );
    }
    if (!isTerminal(old.status)) return 'wait';
    if (withSavepoint && old.status === 'STOPPED' && old.savepointLocation) {
      const record = await savepoints.adopt(old.id, old.savepointLocation, 'upgrade');
      return this.moveOn(
        upgrade,
        'stopping',
        { step: 'starting', savepointId: record?.id ?? null, savepointLocation: old.savepointLocation },
        'stopping',
        () => `Execution ${old.id} stopped with savepoint ${old.savepointLocation}.`,
      );
    }
    if (!withSavepoint && (old.status === 'CANCELLED' || old.status === 'STOPPED')) {
      return this.moveOn(upgrade, 'stopping', { step: 'starting' }, 'stopping', () => `Execution ${old.id} cancelled.`);
    }
    return this.fail(
      upgrade,
      `The old execution ${old.id} ended ${old.status}${old.errorMessage ? ` (${old.errorMessage})` : ''} before the upgrade could stop it${withSavepoint ? ' with a savepoint' : ''}.`,
      'Nothing was changed. Nothing runs now: upgrading again is a plain update, then start the job.',
    );
  }

  private async starting(upgrade: Upgrade): Promise<Outcome> {
    const { jobs, executions, queue } = this.deps;
    const restore = upgrade.savepointLocation ? ` Its state is in savepoint ${upgrade.savepointLocation}.` : '';
    const recover = upgrade.savepointId
      ? ` To recover: POST /api/v1/jobs/${upgrade.jobId}/start {"restoreFrom": "${upgrade.savepointId}"}.`
      : ` To recover: POST /api/v1/jobs/${upgrade.jobId}/start.`;
    const job = await jobs.get(upgrade.jobId);
    if (!job) return this.fail(upgrade, 'The job was deleted during the upgrade.', 'Nothing to recover.');
    let version = upgrade.jobVersionAfter;
    if (version === null) {
      // Our own update seen again after a crash: the job holds the changes one version on.
      if (job.version === upgrade.jobVersionBefore + 1 && holdsChanges(job, upgrade.changes)) version = job.version;
      else {
        try {
          version = (await jobs.update(upgrade.jobId, upgrade.changes, upgrade.jobVersionBefore))?.version ?? null;
        } catch (error) {
          if (!(error instanceof JobModified)) throw error;
          version = null;
        }
        if (version === null) {
          return this.fail(
            upgrade,
            `The job was changed by someone else during the upgrade (version ${job.version}, the upgrade was based on ${upgrade.jobVersionBefore}); its definition was not changed.${restore}`,
            `The old execution is stopped.${recover}`,
          );
        }
      }
    }
    const outcome = await executions.insert(
      {
        jobId: upgrade.jobId,
        trigger: 'upgrade',
        status: 'QUEUED',
        parallelism: null,
        savepointPath: upgrade.savepointLocation,
        savepointId: upgrade.savepointId,
        allowNonRestoredState: upgrade.allowNonRestoredState,
        scheduledFor: null,
        upgradeId: upgrade.id,
      },
      { exclusive: true },
    );
    let started: Execution;
    if (outcome.kind === 'created') started = outcome.execution;
    else if (outcome.kind === 'active' && outcome.active.upgradeId === upgrade.id) started = outcome.active;
    else if (outcome.kind === 'duplicate_upgrade' && outcome.execution) started = outcome.execution;
    else if (outcome.kind === 'active') {
      return this.fail(
        upgrade,
        `Execution ${outcome.active.id} of the job started meanwhile (${outcome.active.status}); the new definition was saved but not started by the upgrade.${restore}`,
        `Stop execution ${outcome.active.id} if it should not run.${recover}`,
      );
    } else if (outcome.kind === 'savepoint_disposed') {
      return this.fail(
        upgrade,
        `The upgrade's savepoint ${upgrade.savepointLocation} was disposed of before the new definition started; the new definition was saved but not started.`,
        'Start the job from another savepoint, or without state.',
      );
    } else return this.fail(upgrade, 'The job was deleted during the upgrade.', 'Nothing to recover.');
    await queue.enqueue({ kind: 'submit', executionId: started.id });
    await releaseQueued(executions, this.deps.log, started.id);
    return this.moveOn(
      upgrade,
      'starting',
      { step: 'confirming', jobVersionAfter: version, toExecutionId: started.id },
      'starting',
      () =>
        `Job updated to version ${version}; execution ${started.id} started${upgrade.savepointLocation ? ` from savepoint ${upgrade.savepointLocation}` : ' without state'}.`,
    );
  }

  private async confirming(upgrade: Upgrade): Promise<Outcome> {
    const started = upgrade.toExecutionId ? await this.deps.executions.get(upgrade.toExecutionId) : null;
    const now = this.deps.clock.now();
    if (started?.status === 'RUNNING') {
      const ranMs = now.getTime() - (started.startedAt ?? now).getTime();
      if (ranMs < this.deps.settings.confirmMs) return 'wait';
      return this.moveOn(
        upgrade,
        'confirming',
        { step: 'done', status: 'COMPLETED', finishedAt: now },
        'done',
        () => `Execution ${started.id} has been RUNNING the new definition for ${Math.round(ranMs / 1000)} s.`,
      );
    }
    if (started && !isTerminal(started.status)) return 'wait';
    const why = started ? `ended ${started.status}: ${started.errorMessage ?? 'no reason given'}` : 'is gone';
    const stoppedWith = upgrade.savepointLocation
      ? `The old execution stopped with savepoint ${upgrade.savepointLocation}`
      : 'The old execution was cancelled';
    return this.fail(
      upgrade,
      `${stoppedWith}; the new execution ${upgrade.toExecutionId ?? ''} ${why}`,
      upgrade.savepointId
        ? `Fix the job (PUT /api/v1/jobs/${upgrade.jobId}), or put the old definition back, then POST /api/v1/jobs/${upgrade.jobId}/start {"restoreFrom": "${upgrade.savepointId}"}.`
        : `Fix the job (PUT /api/v1/jobs/${upgrade.jobId}), then POST /api/v1/jobs/${upgrade.jobId}/start.`,
    );
  }

  private async moveOn(
    upgrade: Upgrade,
    from: UpgradeStep,
    patch: UpgradePatch,
    logged: UpgradeStep,
    detail: () => string,
  ): Promise<'moved' | 'wait'> {
    const moved = await this.deps.upgrades.advance(upgrade.id, from, patch, {
      step: logged,
      at: this.deps.clock.now(),
      detail: detail(),
    });
    if (moved) this.deps.log.info({ upgradeId: upgrade.id, jobId: upgrade.jobId, step: moved.step }, detail());
    // Written by us: go on at once; written by another worker first: look again later.
    return moved && moved.step !== from ? 'moved' : 'wait';
  }

  private async fail(upgrade: Upgrade, reason: string, recovery: string): Promise<'over'> {
    const now = this.deps.clock.now();
    await this.deps.upgrades.advance(
      upgrade.id,
      upgrade.step,
      { status: 'FAILED', errorMessage: reason, recovery, finishedAt: now },
      { step: 'failed', at: now, detail: reason },
    );
    this.deps.log.warn({ upgradeId: upgrade.id, jobId: upgrade.jobId, step: upgrade.step, reason }, 'upgrade failed');
    return 'over';
  }
}
