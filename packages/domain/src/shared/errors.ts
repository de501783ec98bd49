import type { StopWindow } from '../schedules/stop-window';

/**
 * Errors the use cases raise. Each carries a stable `code` that adapters map to
 * their own vocabulary (HTTP status, job outcome) without parsing messages.
 */
export abstract class DomainError extends Error {
  abstract readonly code: string;
  constructor(
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class JobNotFound extends DomainError {
  readonly code = 'job_not_found';
  constructor(id: string) {
    super(`No job with id "${id}".`);
  }
}

export class ExecutionNotFound extends DomainError {
  readonly code = 'execution_not_found';
  constructor(id: string) {
    super(`No execution with id "${id}".`);
  }
}

export class JobNameTaken extends DomainError {
  readonly code = 'job_name_taken';
  constructor(name: string) {
    super(`A job named "${name}" already exists.`);
  }
}

/** A change based on a version of the job that is no longer the current one. */
export class JobModified extends DomainError {
  readonly code = 'job_modified';
  constructor(id: string, expected: number, current: number) {
    super(
      `Job "${id}" is at version ${current}, not ${expected}: it changed since you read it; read it again and reapply your change.`,
      { currentVersion: current },
    );
  }
}

export class JobDisabled extends DomainError {
  readonly code = 'job_disabled';
  constructor(id: string) {
    super(`Job "${id}" is disabled; enable it before starting it.`);
  }
}

export class ExecutionActive extends DomainError {
  readonly code = 'execution_active';
  constructor(jobId: string, executionId: string, status: string) {
    super(`Job "${jobId}" already has an active execution "${executionId}" (${status}).`, {
      executionId,
      status,
    });
  }
}

export class NoActiveExecution extends DomainError {
  readonly code = 'no_active_execution';
  constructor(jobId: string) {
    super(`Job "${jobId}" has no active execution to stop.`);
  }
}

export class NoSavepoint extends DomainError {
  readonly code = 'no_savepoint';
  constructor(jobId: string) {
    super(`Job "${jobId}" has no savepoint to restore from.`);
  }
}

export class ConcurrentModification extends DomainError {
  readonly code = 'concurrent_modification';
  constructor(what: string) {
    super(`${what} was changed by another request; reload it and try again.`);
  }
}

export class InvalidSchedule extends DomainError {
  readonly code = 'invalid_schedule';
  constructor(
    readonly field: 'cron' | 'timezone' | 'overlap' | 'replace' | 'startAt' | 'endAt' | 'savepoint' | 'restoreFrom',
    reason: string,
  ) {
    super(`${field}: ${reason}`, { field });
  }
}

/** A dependency (PostgreSQL, Redis, Flink) could not be reached; the caller may retry. */
export class DependencyUnavailable extends DomainError {
  readonly code = 'dependency_unavailable';
  constructor(
    readonly dependency: 'postgres' | 'redis' | 'flink' | 'data-processor',
    cause?: unknown,
  ) {
    super(`${dependency} is unavailable; try again shortly.`);
    if (cause !== undefined) this.cause = cause;
  }
}

/** A state-machine violation: a bug in the caller, never a user error. */
export class IllegalTransition extends DomainError {
  readonly code = 'illegal_transition';
  constructor(from: string, to: string) {
    super(`Illegal execution transition ${from} -> ${to}.`);
  }
}

/**
 * Pipeline failures, split by whether trying again can help. Adapters (Flink client,
 * JAR fetcher) classify; the pipeline retries transient ones with backoff and fails
 * the execution at once on permanent ones.
 */
export class TransientFailure extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransientFailure';
  }
}

export class PermanentFailure extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentFailure';
  }
}

export class ClusterNotFound extends DomainError {
  readonly code = 'cluster_not_found';
  constructor(name: string) {
    super(`No cluster named "${name}".`);
  }
}

/** The Flink job belongs to an active execution: it is stopped through its job, so the record follows. */
export class FlinkJobManaged extends DomainError {
  readonly code = 'flink_job_managed';
  constructor(flinkJobId: string, executionId: string, jobId: string, status: string) {
    super(
      `Flink job ${flinkJobId} is execution ${executionId} (${status}) of job ${jobId}: stop it with POST /api/v1/jobs/${jobId}/stop instead.`,
      { executionId, jobId, status },
    );
  }
}

export class FlinkJobNotFound extends DomainError {
  readonly code = 'flink_job_not_found';
  constructor(cluster: string, flinkJobId: string) {
    super(`Cluster "${cluster}" has no Flink job ${flinkJobId}.`);
  }
}

export class FlinkJobEnded extends DomainError {
  readonly code = 'flink_job_ended';
  constructor(cluster: string, flinkJobId: string) {
    super(`Flink job ${flinkJobId} on cluster "${cluster}" has already ended; there is nothing to cancel.`);
  }
}

export class ClusterNameTaken extends DomainError {
  readonly code = 'cluster_name_taken';
  constructor(name: string) {
    super(`A cluster named "${name}" already exists.`);
  }
}

export class ClusterInUse extends DomainError {
  readonly code = 'cluster_in_use';
  constructor(name: string, jobs: number) {
    super(
      `Cluster "${name}" is used by ${jobs} job${jobs === 1 ? '' : 's'}; move or delete ${jobs === 1 ? 'it' : 'them'} first.`,
      { jobs },
    );
  }
}

/** A job names a cluster that does not exist: a bad field, answered like any other (400). */
export class UnknownCluster extends DomainError {
  readonly code = 'unknown_cluster';
  constructor(readonly cluster: string) {
    super(`"cluster": no cluster named "${cluster}"; create it first (POST /api/v1/clusters).`, { field: 'cluster' });
  }
}

/** Moving a job to another cluster while it runs would leave its Flink job behind. */
export class ClusterChangeWhileActive extends DomainError {
  readonly code = 'execution_active';
  constructor(jobId: string, executionId: string, status: string) {
    super(
      `Job "${jobId}" has an active execution "${executionId}" (${status}) on its cluster; stop it before moving the job to another cluster.`,
      { executionId, status },
    );
  }
}

/**
 * Flink refused the program as it would run it: the JAR could not be fetched or uploaded, or
 * building its plan failed (entry class not found, `main()` threw). The message is Flink's reason.
 */
export class ValidationFailedOnFlink extends DomainError {
  readonly code = 'validation_failed_on_flink';
  constructor(
    readonly cluster: string,
    readonly stage: 'jar' | 'plan',
    reason: string,
  ) {
    super(reason, { cluster, stage });
  }
}

export class SavepointNotFound extends DomainError {
  readonly code = 'savepoint_not_found';
  constructor(jobId: string, savepointId: string) {
    super(`Job "${jobId}" has no savepoint "${savepointId}".`);
  }
}

/** A savepoint that may not be disposed of: the job's newest, or one an active execution restored from. */
export class SavepointInUse extends DomainError {
  readonly code = 'savepoint_in_use';
  constructor(savepointId: string, why: string) {
    super(`Savepoint "${savepointId}" is kept: ${why}`);
  }
}

/** Disposing of, or restoring from, a savepoint that is not COMPLETED (or is disposed). */
export class SavepointNotUsable extends DomainError {
  readonly code = 'savepoint_not_usable';
  constructor(savepointId: string, why: string) {
    super(`Savepoint "${savepointId}" ${why}`);
  }
}

export class NoRunningExecution extends DomainError {
  readonly code = 'no_running_execution';
  constructor(jobId: string) {
    super(`Job "${jobId}" has no RUNNING execution to take a savepoint of.`);
  }
}

export class UpgradeInProgress extends DomainError {
  readonly code = 'upgrade_in_progress';
  constructor(jobId: string) {
    super(`Job "${jobId}" has an upgrade in progress already; follow it, then upgrade again.`);
  }
}

export class UpgradeNotFound extends DomainError {
  readonly code = 'upgrade_not_found';
  constructor(id: string) {
    super(`No upgrade "${id}".`);
  }
}

export class ScheduleNotFound extends DomainError {
  readonly code = 'schedule_not_found';
  constructor(jobId: string, scheduleId: string) {
    super(`Job "${jobId}" has no schedule "${scheduleId}".`);
  }
}

export class WebhookNotFound extends DomainError {
  readonly code = 'webhook_not_found';
  constructor(id: string) {
    super(`No webhook with id "${id}".`);
  }
}

/** A webhook URL the outbound guard refuses (host not allowed, scheme, address). */
export class WebhookUrlNotAllowed extends DomainError {
  readonly code = 'webhook_url_not_allowed';
  constructor(reason: string) {
    super(`"url": ${reason}`, { field: 'url' });
  }
}

/** A body names a job that does not exist. */
export class UnknownJob extends DomainError {
  readonly code = 'unknown_job';
  constructor(field: string, id: string) {
    super(`"${field}": no job with id "${id}".`, { field });
  }
}

/** A start asked for while the job's stop window is open: `force` overrides it. */
export class InStopWindow extends DomainError {
  readonly code = 'in_stop_window';
  constructor(jobId: string, window: StopWindow) {
    super(
      `Job "${jobId}" is in its stop window until ${window.endsAt.toISOString()} (opened by stop schedule "${window.stopScheduleId}" at ${window.openedAt.toISOString()}, ended by start schedule "${window.startScheduleId}"); send {"force": true} to start it anyway.`,
      {
        stopScheduleId: window.stopScheduleId,
        openedAt: window.openedAt.toISOString(),
        endsAt: window.endsAt.toISOString(),
        startScheduleId: window.startScheduleId,
      },
    );
  }
}
