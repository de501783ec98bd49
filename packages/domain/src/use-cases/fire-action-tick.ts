import type { ActionSchedule } from '../action-schedule';
import { DomainError, NoActiveExecution, NoRunningExecution } from '../errors';
import type { ActionScheduleRepository } from '../ports/action-schedule-repository';
import type { Clock } from '../ports/clock';
import type { ExecutionRepository } from '../ports/execution-repository';
import type { JobRepository } from '../ports/job-repository';
import type { Logger } from '../ports/logger';
import type { SavepointRepository } from '../ports/savepoint-repository';
import { failureText } from './failure-text';
import type { ManageSavepoints } from './manage-savepoints';
import type { QueueSubmission } from './queue-submission';
import type { RequestStop } from './request-stop';

export interface FireActionTickDeps {
  schedules: ActionScheduleRepository;
  jobs: JobRepository;
  executions: ExecutionRepository;
  savepoints: SavepointRepository;
  submissions: QueueSubmission;
  stops: RequestStop;
  savepointRequests: ManageSavepoints;
  clock: Clock;
  log: Logger;
  settings: { misfireGraceMs: number };
}

type Result = { outcome: 'done' | 'skipped'; detail: string };

/**
 * One tick of an action schedule. The tick is claimed in PostgreSQL before its action
 * runs, so a tick delivered twice acts once; a tick later than the misfire grace is
 * recorded MISSED and not run; a tick with nothing to act on (no running execution to stop
 * or to save, an execution already active to start) is recorded SKIPPED with the reason.
 */
export class FireActionTick {
  constructor(private readonly deps: FireActionTickDeps) {}

  async run(scheduleId: string, scheduledFor: Date): Promise<void> {
    const { schedules, jobs, clock, log, settings } = this.deps;
    const schedule = await schedules.get(scheduleId);
    // The timer outlived its schedule (deleted, or past endAt); the reconciler removes it.
    if (!schedule || (schedule.endAt && scheduledFor > schedule.endAt)) return;
    const lateMs = clock.now().getTime() - scheduledFor.getTime();
    if (lateMs > settings.misfireGraceMs) {
      const detail = `Tick fired ${Math.round(lateMs / 1000)} s late (grace ${Math.round(settings.misfireGraceMs / 1000)} s); not run.`;
      await schedules.recordTick(scheduleId, scheduledFor, 'missed', detail);
      return;
    }
    if (!(await schedules.claimTick(scheduleId, scheduledFor))) return;
    const tickLog = log.child({ scheduleId, jobId: schedule.jobId, action: schedule.action });
    let result: Result;
    try {
      const job = await jobs.get(schedule.jobId);
      result = !job?.enabled
        ? { outcome: 'skipped', detail: 'The job is disabled.' }
        : await this.act(schedule, scheduledFor);
    } catch (error) {
      tickLog.warn({ err: error }, 'scheduled action failed');
      await schedules.settleTick(scheduleId, scheduledFor, 'failed', failureText(error));
      return;
    }
    await schedules.settleTick(scheduleId, scheduledFor, result.outcome, result.detail);
    tickLog.info({ outcome: result.outcome, scheduledFor }, result.detail);
  }

  private async act(schedule: ActionSchedule, scheduledFor: Date): Promise<Result> {
    switch (schedule.action) {
      case 'start':
        return this.start(schedule, scheduledFor);
      case 'stop':
        return this.stop(schedule);
      case 'savepoint':
        return this.savepoint(schedule);
    }
  }

  private async start(schedule: ActionSchedule, scheduledFor: Date): Promise<Result> {
    const latest =
      schedule.options.restoreFrom === 'latest-savepoint'
        ? await this.deps.savepoints.latestRestorable(schedule.jobId)
        : null;
    const outcome = await this.deps.executions.insert(
      {
        jobId: schedule.jobId,
        trigger: 'schedule',
        status: 'QUEUED',
        parallelism: null,
        savepointPath: latest?.location ?? null,
        savepointId: latest?.id ?? null,
        allowNonRestoredState: false,
        scheduledFor,
      },
      { exclusive: true },
    );
    switch (outcome.kind) {
      case 'created': {
        await this.deps.submissions.run(outcome.execution);
        const from = latest
          ? ` from savepoint ${latest.id}`
          : schedule.options.restoreFrom
            ? ' without state (the job has no savepoint)'
            : '';
        return { outcome: 'done', detail: `Started execution ${outcome.execution.id}${from}.` };
      }
      case 'active':
        return {
          outcome: 'skipped',
          detail: `Not started: execution ${outcome.active.id} is still ${outcome.active.status}.`,
        };
      case 'duplicate_tick':
        return { outcome: 'skipped', detail: 'Another schedule of the job started an execution at this instant.' };
      case 'savepoint_disposed':
        return { outcome: 'skipped', detail: `Not started: savepoint ${latest?.id} was disposed of meanwhile.` };
      default:
        return { outcome: 'skipped', detail: 'The job is gone.' };
    }
  }

  private async stop(schedule: ActionSchedule): Promise<Result> {
    const savepoint = schedule.options.savepoint ?? true;
    try {
      const stopped = await this.deps.stops.forJob(schedule.jobId, {
        savepoint,
        drain: schedule.options.drain ?? false,
      });
      return {
        outcome: 'done',
        detail: `Stop${savepoint ? ' with a savepoint' : ''} asked of execution ${stopped.id}.`,
      };
    } catch (error) {
      if (error instanceof NoActiveExecution) return { outcome: 'skipped', detail: 'Nothing was running.' };
      if (error instanceof DomainError) return { outcome: 'skipped', detail: error.message };
      throw error;
    }
  }

  private async savepoint(schedule: ActionSchedule): Promise<Result> {
    try {
      const taken = await this.deps.savepointRequests.take(schedule.jobId, 'periodic');
      return { outcome: 'done', detail: `Savepoint ${taken.id} asked of execution ${taken.executionId}.` };
    } catch (error) {
      if (error instanceof NoRunningExecution) return { outcome: 'skipped', detail: 'Nothing was running.' };
      throw error;
    }
  }
}
