import { ExecutionActive, JobDisabled, JobNotFound, NoSavepoint } from '../errors';
import type { Execution } from '../execution';
import type { ExecutionRepository } from '../ports/execution-repository';
import type { JobRepository } from '../ports/job-repository';
import type { QueueSubmission } from './queue-submission';

export interface StartOptions {
  parallelism?: number;
  savepointPath?: string;
  allowNonRestoredState?: boolean;
  restoreFrom?: 'latest-savepoint';
}

/** A manual start: one new QUEUED execution, refused while the job has an active one. */
export class StartExecution {
  constructor(
    private readonly jobs: JobRepository,
    private readonly executions: ExecutionRepository,
    private readonly submissions: QueueSubmission,
  ) {}

  async run(jobId: string, options: StartOptions = {}): Promise<Execution> {
    const job = await this.jobs.get(jobId);
    if (!job) throw new JobNotFound(jobId);
    if (!job.enabled) throw new JobDisabled(jobId);
    let savepointPath = options.savepointPath ?? null;
    if (options.restoreFrom === 'latest-savepoint') {
      savepointPath = await this.executions.latestSavepoint(jobId);
      if (!savepointPath) throw new NoSavepoint(jobId);
    }
    const outcome = await this.executions.insert(
      {
        jobId,
        trigger: 'manual',
        status: 'QUEUED',
        // Null takes the job's, from the row the definition is copied from.
        parallelism: options.parallelism ?? null,
        savepointPath,
        allowNonRestoredState: options.allowNonRestoredState ?? false,
        scheduledFor: null,
      },
      { exclusive: true },
    );
    switch (outcome.kind) {
      case 'job_missing':
        throw new JobNotFound(jobId);
      case 'active':
        throw new ExecutionActive(jobId, outcome.active.id, outcome.active.status);
      case 'duplicate_tick':
      case 'duplicate_restart':
        throw new Error('a manual start cannot collide with a schedule tick or a restart');
      case 'created':
        return this.submissions.run(outcome.execution);
    }
  }
}
