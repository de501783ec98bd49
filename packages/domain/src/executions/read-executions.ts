import { ExecutionNotFound, JobNotFound } from '../shared/errors';
import type { Execution, ExecutionStatus } from './execution';
import type { ExecutionFilter, ExecutionRepository } from './execution-repository';
import type { JobRepository, PageRequest } from '../jobs/job-repository';

/** The execution history: one execution, a job's, or across jobs. */
export class ReadExecutions {
  constructor(
    private readonly jobs: JobRepository,
    private readonly executions: ExecutionRepository,
  ) {}

  async get(id: string): Promise<Execution> {
    const execution = await this.executions.get(id);
    if (!execution) throw new ExecutionNotFound(id);
    return execution;
  }

  /** Newest first, across jobs. A jobId that names no job finds nothing. */
  list(filter: ExecutionFilter, page: PageRequest): Promise<Execution[]> {
    return this.executions.list(filter, page);
  }

  /** Newest first; a job that does not exist is an error, not an empty page. */
  async listForJob(jobId: string, page: PageRequest, status?: ExecutionStatus): Promise<Execution[]> {
    const job = await this.jobs.get(jobId);
    if (!job) throw new JobNotFound(jobId);
    return this.executions.listByJob(jobId, page, status);
  }
}
