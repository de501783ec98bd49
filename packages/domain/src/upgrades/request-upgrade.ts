import {
  DependencyUnavailable,
  ExecutionActive,
  JobModified,
  JobNotFound,
  UpgradeInProgress,
  UpgradeNotFound,
} from '../shared/errors';
import type { Clock } from '../shared/clock';
import type { ExecutionRepository } from '../executions/execution-repository';
import type { JobRepository, PageRequest } from '../jobs/job-repository';
import type { Logger } from '../shared/logger';
import type { UpgradeRepository } from './upgrade-repository';
import type { WorkQueue } from '../shared/work-queue';
import type { Upgrade, UpgradeChanges, UpgradeMode } from './upgrade';
import type { ManageJobs } from '../jobs/manage-jobs';

export interface UpgradeRequest {
  changes: UpgradeChanges;
  mode: UpgradeMode;
  allowNonRestoredState: boolean;
  /** The job version the upgrade is based on: a job changed since is left alone (JobModified). */
  expectedVersion?: number;
}

export interface RequestUpgradeDeps {
  jobs: JobRepository;
  manageJobs: ManageJobs;
  executions: ExecutionRepository;
  upgrades: UpgradeRepository;
  queue: WorkQueue;
  clock: Clock;
  log: Logger;
}

/**
 * An upgrade as the API takes it. With nothing running it is a plain update, recorded as a
 * completed upgrade. With an execution RUNNING it is an operation the workers carry out
 * step by step (AdvanceUpgrade), from checking the new definition on Flink; the answer is
 * its record, to follow.
 */
export class RequestUpgrade {
  constructor(private readonly deps: RequestUpgradeDeps) {}

  async run(jobId: string, request: UpgradeRequest): Promise<Upgrade> {
    const { jobs, manageJobs, executions, upgrades, queue, clock, log } = this.deps;
    const job = await jobs.get(jobId);
    if (!job) throw new JobNotFound(jobId);
    const expected = request.expectedVersion;
    // Answered before anything else is looked at; the writes below check it again, atomically.
    if (expected !== undefined && expected !== job.version) throw new JobModified(jobId, expected, job.version);
    const [active] = await executions.findActive(jobId);
    const fields = {
      jobId,
      mode: request.mode,
      changes: request.changes,
      allowNonRestoredState: request.allowNonRestoredState,
      jobVersionBefore: expected ?? job.version,
    };
    if (!active) {
      const updated = await manageJobs.update(jobId, request.changes, undefined, expected ?? job.version);
      const now = clock.now();
      const done = await upgrades.create({
        ...fields,
        status: 'COMPLETED',
        step: 'done',
        steps: [{ step: 'done', at: now, detail: 'Nothing was running: the job definition was updated.' }],
        fromExecutionId: null,
        jobVersionAfter: updated.version,
        finishedAt: now,
      });
      if (done === 'in_progress') throw new UpgradeInProgress(jobId);
      return done;
    }
    // Half-way states (queued, submitting, stopping) have no state to carry over yet, or a stop of their own.
    if (active.status !== 'RUNNING') throw new ExecutionActive(jobId, active.id, active.status);
    const created = await upgrades.create(
      { ...fields, status: 'IN_PROGRESS', step: 'validating', steps: [], fromExecutionId: active.id },
      expected === undefined ? {} : { expectedJobVersion: expected },
    );
    if (created === 'in_progress') throw new UpgradeInProgress(jobId);
    try {
      await queue.enqueue({ kind: 'upgrade', upgradeId: created.id });
    } catch (error) {
      // Nothing was done yet: the record says so, and the caller may simply try again.
      log.warn({ err: error, upgradeId: created.id }, 'upgrade could not be queued');
      await upgrades.advance(
        created.id,
        'validating',
        {
          status: 'FAILED',
          finishedAt: clock.now(),
          errorMessage: 'The upgrade could not be queued (Redis unavailable).',
        },
        { step: 'failed', at: clock.now(), detail: 'Not started: nothing was changed.' },
      );
      throw new DependencyUnavailable('redis', error);
    }
    return created;
  }

  async get(id: string): Promise<Upgrade> {
    const upgrade = await this.deps.upgrades.get(id);
    if (!upgrade) throw new UpgradeNotFound(id);
    return upgrade;
  }

  async listForJob(jobId: string, page: PageRequest): Promise<Upgrade[]> {
    if (!(await this.deps.jobs.get(jobId))) throw new JobNotFound(jobId);
    return this.deps.upgrades.listByJob(jobId, page);
  }
}
