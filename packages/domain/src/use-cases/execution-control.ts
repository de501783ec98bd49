import {
  DependencyUnavailable,
  ExecutionActive,
  ExecutionNotFound,
  JobDisabled,
  JobNotFound,
  NoActiveExecution,
  NoSavepoint,
} from '../errors';
import type { Execution, ExecutionStatus, StopRequest } from '../execution';
import type { ExecutionFilter, ExecutionRepository } from '../ports/execution-repository';
import type { JobRepository, PageRequest } from '../ports/job-repository';
import type { Clock, Logger } from '../ports/runtime';
import type { WorkQueue } from '../ports/work-queue';

export interface StartOptions {
  parallelism?: number;
  savepointPath?: string;
  allowNonRestoredState?: boolean;
  restoreFrom?: 'latest-savepoint';
}

export interface StopOptions {
  savepoint?: boolean;
  drain?: boolean;
}

/** Starting, stopping and reading executions: the API side of the pipeline. */
export class ExecutionControl {
  constructor(
    private readonly jobs: JobRepository,
    private readonly executions: ExecutionRepository,
    private readonly queue: WorkQueue,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  async start(jobId: string, options: StartOptions = {}): Promise<Execution> {
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
        throw new Error('a manual start cannot collide with a schedule tick');
      case 'created':
        return this.enqueueOrDiscard(outcome.execution);
    }
  }

  /**
   * An execution whose message never reached the queue would sit QUEUED forever, so
   * it is removed and the caller told to retry.
   */
  async enqueueOrDiscard(execution: Execution): Promise<Execution> {
    try {
      await this.queue.enqueue({ kind: 'submit', executionId: execution.id });
      return execution;
    } catch (error) {
      this.log.warn({ err: error, executionId: execution.id }, 'enqueue failed; execution discarded');
      await this.executions.discard(execution.id);
      throw new DependencyUnavailable('redis', error);
    }
  }

  /** Stops every active execution of the job and answers the newest. */
  async stop(jobId: string, options: StopOptions = {}): Promise<Execution> {
    const job = await this.jobs.get(jobId);
    if (!job) throw new JobNotFound(jobId);
    const active = await this.executions.findActive(jobId);
    if (active.length === 0) throw new NoActiveExecution(jobId);
    const stopped: Execution[] = [];
    for (const execution of active) stopped.push(await this.stopExecution(execution, options));
    return stopped[0] as Execution;
  }

  /**
   * QUEUED ends at once; SUBMITTING becomes STOPPING and the submitting worker honours
   * it before or right after its run request; RUNNING becomes STOPPING and a stop
   * message goes to the workers. The row is the record of the request, so a lost
   * message is re-sent by the reconciler.
   */
  async stopExecution(execution: Execution, options: StopOptions): Promise<Execution> {
    const now = this.clock.now();
    const stopRequest = { savepoint: options.savepoint ?? false, drain: options.drain ?? false, requestedAt: now };
    let current: Execution | null = execution;
    for (let i = 0; current && i < 5; i++) {
      const status: ExecutionStatus = current.status;
      if (status === 'STOPPING') {
        if (!escalates(current.stopRequest, stopRequest)) return current;
        // A stop-with-savepoint that hangs: a cancel takes over, with a message of its own.
        const escalated = await this.executions.patch(current.id, ['STOPPING'], { stopRequest });
        if (escalated) {
          this.log.info({ executionId: current.id }, 'stop escalated from savepoint to cancel');
          if (escalated.submittedAt) await this.sendStop(escalated);
          return escalated;
        }
      } else if (status === 'QUEUED') {
        const cancelled = await this.executions.transition(
          current.id,
          'CANCELLED',
          { finishedAt: now, errorMessage: null, stopRequest },
          ['QUEUED'],
        );
        if (cancelled) return cancelled;
      } else if (status === 'SUBMITTING' || status === 'RUNNING') {
        const stopping = await this.executions.transition(current.id, 'STOPPING', { stopRequest }, [status]);
        if (stopping) {
          if (status === 'RUNNING') await this.sendStop(stopping);
          return stopping;
        }
      } else {
        return current; // ended meanwhile
      }
      current = await this.executions.get(execution.id);
    }
    return current ?? execution;
  }

  private async sendStop(execution: Execution): Promise<void> {
    const requestedAt = execution.stopRequest?.requestedAt.getTime() ?? 0;
    try {
      await this.queue.enqueue({ kind: 'stop', executionId: execution.id, requestedAt });
    } catch (error) {
      // The STOPPING row is durable; the reconciler re-sends the message when Redis is back.
      this.log.warn({ err: error, executionId: execution.id }, 'stop message not sent; the reconciler will resend it');
    }
  }

  async get(id: string): Promise<Execution> {
    const execution = await this.executions.get(id);
    if (!execution) throw new ExecutionNotFound(id);
    return execution;
  }

  /** The history across jobs, newest first. A jobId that names no job finds nothing. */
  history(filter: ExecutionFilter, page: PageRequest): Promise<Execution[]> {
    return this.executions.list(filter, page);
  }

  async list(jobId: string, page: PageRequest, status?: ExecutionStatus): Promise<Execution[]> {
    const job = await this.jobs.get(jobId);
    if (!job) throw new JobNotFound(jobId);
    return this.executions.listByJob(jobId, page, status);
  }
}

/** Only one escalation exists: a cancel overrides a pending stop-with-savepoint. */
function escalates(pending: StopRequest | null, next: StopRequest): boolean {
  return pending?.savepoint === true && !next.savepoint;
}
