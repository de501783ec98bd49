import {
  ExecutionActive,
  InStopWindow,
  JobDisabled,
  JobNotFound,
  NoSavepoint,
  SavepointNotFound,
  SavepointNotUsable,
} from '../shared/errors';
import type { Execution } from './execution';
import type { ExecutionRepository } from './execution-repository';
import type { JobRepository } from '../jobs/job-repository';
import type { SavepointRepository } from '../savepoints/savepoint-repository';
import { isRestorable } from '../savepoints/savepoint';
import type { QueueSubmission } from './queue-submission';
import type { StopWindows } from '../schedules/stop-windows';

export interface StartOptions {
  parallelism?: number;
  savepointPath?: string;
  allowNonRestoredState?: boolean;
  /** `latest-savepoint`, a savepoint's id (a UUID), or a path (anything else). */
  restoreFrom?: string;
  /** Starts even inside the job's stop window. */
  force?: boolean;
}

const SAVEPOINT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A manual start: one new QUEUED execution, refused while the job has an active one, and
 * inside the job's stop window unless forced (a maintenance window holds against a start
 * by hand that forgot about it, not against one that means it).
 */
export class StartExecution {
  constructor(
    private readonly jobs: JobRepository,
    private readonly executions: ExecutionRepository,
    private readonly submissions: QueueSubmission,
    private readonly savepoints: SavepointRepository,
    private readonly windows?: StopWindows,
  ) {}

  async run(jobId: string, options: StartOptions = {}): Promise<Execution> {
    // The job's existence and enabled flag are checked by the insert, under the job row
    // lock; its stop window is read alongside the restore point. A job without action
    // schedules has no window (a missing job neither: the insert says it is missing).
    const [{ savepointPath, savepointId }, window] = await Promise.all([
      this.restorePoint(jobId, options).catch((error: unknown) => this.refusal(jobId, error)),
      options.force ? null : (this.windows?.openNow(jobId) ?? null),
    ]);
    if (window) throw new InStopWindow(jobId, window);
    const outcome = await this.executions.insert(
      {
        jobId,
        trigger: 'manual',
        status: 'QUEUED',
        // Null takes the job's, from the row the definition is copied from.
        parallelism: options.parallelism ?? null,
        savepointPath,
        savepointId,
        allowNonRestoredState: options.allowNonRestoredState ?? false,
        scheduledFor: null,
      },
      { exclusive: true, requireEnabled: true },
    );
    switch (outcome.kind) {
      case 'job_missing':
        throw new JobNotFound(jobId);
      case 'job_disabled':
        throw new JobDisabled(jobId);
      case 'active':
        throw new ExecutionActive(jobId, outcome.active.id, outcome.active.status);
      case 'savepoint_disposed':
        // A disposal committed between the read above and the insert's lock.
        throw new SavepointNotUsable(savepointId ?? savepointPath ?? '', 'is disposed of: nothing to restore from.');
      case 'duplicate_tick':
      case 'duplicate_restart':
      case 'duplicate_upgrade':
        throw new Error('a manual start cannot collide with a schedule tick, a restart or an upgrade');
      case 'created':
        return this.submissions.run(outcome.execution);
    }
  }

  /**
   * A savepoint that cannot be used refuses the start; but a missing or disabled job is
   * the first thing to tell, as it was when the job was read before anything else.
   */
  private async refusal(jobId: string, error: unknown): Promise<never> {
    const job = await this.jobs.get(jobId);
    if (!job) throw new JobNotFound(jobId);
    if (!job.enabled) throw new JobDisabled(jobId);
    throw error;
  }

  /** Where the start restores from: a savepoint record (by id, or the newest), or a path as given. */
  private async restorePoint(
    jobId: string,
    options: StartOptions,
  ): Promise<{ savepointPath: string | null; savepointId: string | null }> {
    const from = options.restoreFrom;
    if (from === undefined) return { savepointPath: options.savepointPath ?? null, savepointId: null };
    if (from === 'latest-savepoint') {
      const latest = await this.savepoints.latestRestorable(jobId);
      if (!latest) throw new NoSavepoint(jobId);
      return { savepointPath: latest.location, savepointId: latest.id };
    }
    if (!SAVEPOINT_ID.test(from)) return { savepointPath: from, savepointId: null };
    const savepoint = await this.savepoints.get(from);
    if (!savepoint || savepoint.jobId !== jobId) throw new SavepointNotFound(jobId, from);
    if (!isRestorable(savepoint)) {
      const why = savepoint.disposedAt || savepoint.disposal ? 'is disposed of' : `is ${savepoint.status}`;
      throw new SavepointNotUsable(from, `${why}: nothing to restore from.`);
    }
    return { savepointPath: savepoint.location, savepointId: savepoint.id };
  }
}
