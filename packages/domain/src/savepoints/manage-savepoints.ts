import {
  DependencyUnavailable,
  JobNotFound,
  NoRunningExecution,
  SavepointInUse,
  SavepointNotFound,
  SavepointNotUsable,
} from '../shared/errors';
import type { ExecutionRepository } from '../executions/execution-repository';
import type { JobRepository, PageRequest } from '../jobs/job-repository';
import type { Logger } from '../shared/logger';
import type { SavepointRepository } from './savepoint-repository';
import type { WorkQueue } from '../shared/work-queue';
import type { Savepoint, SavepointKind } from './savepoint';

export interface ManageSavepointsDeps {
  jobs: JobRepository;
  executions: ExecutionRepository;
  savepoints: SavepointRepository;
  queue: WorkQueue;
  clock: { now(): Date };
  log: Logger;
}

/**
 * Savepoints as the API offers them: take one of the running execution (the job goes on),
 * list them, dispose of one. The Flink work is a message for the workers; the record says
 * how far it got.
 */
export class ManageSavepoints {
  constructor(private readonly deps: ManageSavepointsDeps) {}

  /** Records the savepoint IN_PROGRESS and hands it to a worker; the answer is the record. */
  async take(jobId: string, kind: Extract<SavepointKind, 'manual' | 'periodic'> = 'manual'): Promise<Savepoint> {
    const { jobs, executions, savepoints, queue, log } = this.deps;
    if (!(await jobs.get(jobId))) throw new JobNotFound(jobId);
    const running = (await executions.findActive(jobId)).find((e) => e.status === 'RUNNING' && e.flinkJobId);
    if (!running) throw new NoRunningExecution(jobId);
    const savepoint = await savepoints.begin({
      jobId,
      executionId: running.id,
      cluster: running.cluster,
      kind,
      triggerId: null,
    });
    try {
      await queue.enqueue({ kind: 'savepoint', savepointId: savepoint.id });
    } catch (error) {
      log.warn({ err: error, savepointId: savepoint.id }, 'savepoint could not be queued');
      await savepoints.fail(
        savepoint.id,
        'The request could not be queued (Redis unavailable); nothing was asked of Flink.',
      );
      throw new DependencyUnavailable('redis', error);
    }
    return savepoint;
  }

  async list(jobId: string, page: PageRequest): Promise<Savepoint[]> {
    if (!(await this.deps.jobs.get(jobId))) throw new JobNotFound(jobId);
    return this.deps.savepoints.listByJob(jobId, page);
  }

  async get(jobId: string, savepointId: string): Promise<Savepoint> {
    const savepoint = await this.deps.savepoints.get(savepointId);
    if (!savepoint || savepoint.jobId !== jobId) {
      if (!(await this.deps.jobs.get(jobId))) throw new JobNotFound(jobId);
      throw new SavepointNotFound(jobId, savepointId);
    }
    return savepoint;
  }

  /** The savepoints each of these executions produced (ids, oldest first). */
  producedBy(executionIds: readonly string[]): Promise<Map<string, string[]>> {
    return this.deps.savepoints.producedBy(executionIds);
  }

  /**
   * Asks for the disposal (checked and recorded in one statement) and hands it to a worker.
   * Asking again for one being disposed of, or disposed of, answers it as it is.
   */
  async dispose(jobId: string, savepointId: string): Promise<Savepoint> {
    const { savepoints, queue, clock } = this.deps;
    const outcome = await savepoints.requestDisposal(jobId, savepointId, clock.now());
    switch (outcome.kind) {
      case 'not_found':
        if (!(await this.deps.jobs.get(jobId))) throw new JobNotFound(jobId);
        throw new SavepointNotFound(jobId, savepointId);
      case 'not_completed':
        throw new SavepointNotUsable(
          savepointId,
          `is ${outcome.savepoint.status}: only a completed savepoint has files to dispose of.`,
        );
      case 'newest':
        throw new SavepointInUse(
          savepointId,
          "it is the job's newest completed savepoint, which is never disposed of.",
        );
      case 'in_use':
        throw new SavepointInUse(savepointId, `execution ${outcome.executionId} restored from it and is still active.`);
      case 'requested':
        if (!outcome.savepoint.disposedAt && outcome.savepoint.disposal) {
          try {
            const requestedAt = outcome.savepoint.disposal.requestedAt.getTime();
            await queue.enqueue({ kind: 'dispose', savepointId, requestedAt });
          } catch (error) {
            // Recorded as asked for: the disposal sweep sends it again once Redis is back.
            throw new DependencyUnavailable('redis', error);
          }
        }
        return outcome.savepoint;
    }
  }
}
