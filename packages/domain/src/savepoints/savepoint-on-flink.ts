import { PermanentFailure, TransientFailure } from '../shared/errors';
import type { Clock } from '../shared/clock';
import type { ExecutionRepository } from '../executions/execution-repository';
import type { FlinkClusters } from '../clusters/flink-clusters';
import type { Logger } from '../shared/logger';
import type { SavepointRepository } from './savepoint-repository';
import type { Attempt } from '../shared/work-handlers';
import { takenSince } from './savepoint';
import { errorFields, failureText } from '../shared/failure-text';

export interface SavepointOnFlinkSettings {
  pollIntervalMs: number;
  /** How long one try waits for Flink to finish the savepoint or the disposal. */
  timeoutMs: number;
}

export interface SavepointOnFlinkDeps {
  executions: ExecutionRepository;
  savepoints: SavepointRepository;
  clusters: FlinkClusters;
  clock: Clock;
  log: Logger;
  settings: SavepointOnFlinkSettings;
}

/**
 * The workers' half of savepoints as records: takes a savepoint of a running job (it goes
 * on running) and disposes of one through Flink. Both are safe to run again: the savepoint
 * runs under the record's trigger id, so Flink treats a retry as the same operation; the
 * disposal's trigger id is stored as soon as Flink gives it, and the record says disposed
 * only once Flink reported the disposal done.
 */
export class SavepointOnFlink {
  constructor(private readonly deps: SavepointOnFlinkDeps) {}

  async take(savepointId: string, attempt: Attempt): Promise<void> {
    const { savepoints, executions, clusters, log: rootLog } = this.deps;
    const savepoint = await savepoints.get(savepointId);
    if (!savepoint || savepoint.status !== 'IN_PROGRESS' || !savepoint.triggerId) return;
    const log = rootLog.child({ savepointId, jobId: savepoint.jobId, executionId: savepoint.executionId });
    const execution = savepoint.executionId ? await executions.get(savepoint.executionId) : null;
    if (!execution?.flinkJobId || execution.status !== 'RUNNING') {
      await savepoints.fail(
        savepointId,
        `Execution ${savepoint.executionId ?? '(pruned)'} is ${execution?.status ?? 'gone'}: no running job to take a savepoint of.`,
      );
      return;
    }
    try {
      const { flink, savepointDir } = await clusters.gatewayFor(savepoint.cluster);
      // Flink fails a savepoint of a job whose tasks are not all running yet (just after a
      // start), and caches that failure under the trigger id: wait for them before asking.
      const listed = (await flink.jobsOverview()).find((job) => job.jobId === execution.flinkJobId);
      if (listed?.tasksRunning === false) throw new TransientFailure("The job's tasks are not all running yet.");
      await flink.triggerSavepoint(execution.flinkJobId, {
        targetDirectory: savepointDir,
        triggerId: savepoint.triggerId,
      });
      const deadline = this.deps.clock.now().getTime() + this.deps.settings.timeoutMs;
      for (;;) {
        const status = await flink.savepointStatus(execution.flinkJobId, savepoint.triggerId);
        if (status.status === 'COMPLETED') {
          await savepoints.complete(savepointId, status.location, this.deps.clock.now());
          log.info({ location: status.location }, 'savepoint taken');
          return;
        }
        if (status.status === 'FAILED') throw new PermanentFailure(`Savepoint failed: ${status.reason}`);
        if (status.status === 'unknown') {
          // Flink forgot the operation (expired, or a JobManager with HA restarted): a savepoint
          // it lists as taken since the record was made is this one; else the retry asks again,
          // and the same trigger id is a new operation for Flink now.
          const listed = await flink.latestSavepoint(execution.flinkJobId);
          if (listed && takenSince(listed, savepoint.createdAt)) {
            await savepoints.complete(savepointId, listed.location, this.deps.clock.now());
            log.info({ location: listed.location }, 'savepoint operation forgotten by Flink; its savepoint is listed');
            return;
          }
          throw new TransientFailure(
            'Flink no longer knows the savepoint operation and lists none since: asked again.',
          );
        }
        if (this.deps.clock.now().getTime() > deadline)
          throw new TransientFailure('Savepoint did not complete in time.');
        await this.deps.clock.sleep(this.deps.settings.pollIntervalMs);
      }
    } catch (error) {
      if (!(error instanceof PermanentFailure) && !attempt.final) {
        log.warn({ ...errorFields(error), attempt: attempt.number }, 'savepoint not taken yet; will retry');
        throw error;
      }
      log.warn({ err: error }, 'savepoint failed');
      await savepoints.fail(savepointId, failureText(error));
    }
  }

  async dispose(savepointId: string, attempt: Attempt): Promise<void> {
    const { savepoints, clusters, log: rootLog } = this.deps;
    const savepoint = await savepoints.get(savepointId);
    if (!savepoint?.disposal || savepoint.disposedAt || !savepoint.location) return;
    const log = rootLog.child({ savepointId, jobId: savepoint.jobId, location: savepoint.location });
    try {
      const { flink } = await clusters.gatewayFor(savepoint.cluster);
      let triggerId = savepoint.disposal.triggerId;
      if (!triggerId) {
        triggerId = await flink.disposeSavepoint(savepoint.location);
        await savepoints.recordDisposalTrigger(savepointId, triggerId);
      }
      const deadline = this.deps.clock.now().getTime() + this.deps.settings.timeoutMs;
      for (;;) {
        const status = await flink.disposalStatus(triggerId);
        if (status.status === 'COMPLETED' || status.status === 'absent') {
          // Absent: an earlier try (its trigger id lost in a crash) removed the files already.
          await savepoints.markDisposed(savepointId, this.deps.clock.now());
          log.info({ alreadyAbsent: status.status === 'absent' }, 'savepoint disposed of');
          return;
        }
        if (status.status === 'FAILED') throw new PermanentFailure(status.reason);
        if (status.status === 'unknown') {
          // Flink forgot the operation (expired, or its JobManager restarted): ask again.
          await savepoints.recordDisposalTrigger(savepointId, null);
          throw new TransientFailure('Flink no longer knows the disposal operation; it is asked for again.');
        }
        if (this.deps.clock.now().getTime() > deadline)
          throw new TransientFailure('Disposal did not complete in time.');
        await this.deps.clock.sleep(this.deps.settings.pollIntervalMs);
      }
    } catch (error) {
      if (!(error instanceof PermanentFailure) && !attempt.final) {
        log.warn({ ...errorFields(error), attempt: attempt.number }, 'disposal not done yet; will retry');
        throw error;
      }
      // Not disposed: the reason is kept, and the request cleared so that it can be asked again.
      log.warn({ err: error }, 'disposal failed');
      await savepoints.recordDisposalFailure(savepointId, failureText(error));
    }
  }
}
