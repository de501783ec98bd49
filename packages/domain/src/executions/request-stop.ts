import { JobNotFound, NoActiveExecution } from '../shared/errors';
import type { Execution, ExecutionStatus, StopOptions, StopRequest } from './execution';
import type { Clock } from '../shared/clock';
import type { ExecutionRepository } from './execution-repository';
import type { JobRepository } from '../jobs/job-repository';
import type { Logger } from '../shared/logger';
import type { WorkQueue } from '../shared/work-queue';

export interface RequestStopDeps {
  jobs: JobRepository;
  executions: ExecutionRepository;
  queue: WorkQueue;
  clock: Clock;
  log: Logger;
}

/**
 * Records a stop request on the row and tells the workers. QUEUED ends at once;
 * SUBMITTING becomes STOPPING and the submitting worker honours it before or right after
 * its run request; RUNNING becomes STOPPING and a stop message goes out. The row is the
 * record of the request, so a lost message is re-sent by the reconciler.
 */
export class RequestStop {
  private readonly jobs: JobRepository;
  private readonly executions: ExecutionRepository;
  private readonly queue: WorkQueue;
  private readonly clock: Clock;
  private readonly log: Logger;

  constructor(deps: RequestStopDeps) {
    ({ jobs: this.jobs, executions: this.executions, queue: this.queue, clock: this.clock, log: this.log } = deps);
  }

  /** Stops every active execution of the job and answers the newest. */
  async forJob(jobId: string, options: StopOptions = {}): Promise<Execution> {
    const job = await this.jobs.get(jobId);
    if (!job) throw new JobNotFound(jobId);
    const active = await this.executions.findActive(jobId);
    if (active.length === 0) throw new NoActiveExecution(jobId);
    const stopped: Execution[] = [];
    for (const execution of active) stopped.push(await this.forExecution(execution, options));
    return stopped[0] as Execution;
  }

  async forExecution(execution: Execution, options: StopOptions): Promise<Execution> {
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
}

/** Only one escalation exists: a cancel overrides a pending stop-with-savepoint. */
function escalates(pending: StopRequest | null, next: StopRequest): boolean {
  return pending?.savepoint === true && !next.savepoint;
}
