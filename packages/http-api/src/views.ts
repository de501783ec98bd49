import { programArgsFrom, type Execution, type Job } from '@flink-orchestrator/domain';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** A job as the API shows it; field names follow the service this replaces (jarURL). */
export function jobView(job: Job, nextRuns: Date[]) {
  return {
    id: job.id,
    name: job.name,
    jarURL: job.jarUrl,
    entryClass: job.entryClass,
    config: job.config,
    parallelism: job.parallelism,
    enabled: job.enabled,
    /** Goes up with every change; PUT takes it back (If-Match or `version`) to refuse lost updates. */
    version: job.version,
    schedule: job.schedule
      ? {
          cron: job.schedule.cron,
          timezone: job.schedule.timezone,
          overlap: job.schedule.overlap,
          replace: job.schedule.replace,
          startAt: iso(job.schedule.startAt),
          endAt: iso(job.schedule.endAt),
          nextRuns: job.enabled ? nextRuns.map((d) => d.toISOString()) : [],
          lastRunAt: iso(job.schedule.lastRunAt),
          paused: !job.enabled,
        }
      : null,
    createdAt: job.createdAt.toISOString(),
    updatedAt: job.updatedAt.toISOString(),
  };
}

export function executionView(e: Execution) {
  return {
    id: e.id,
    jobId: e.jobId,
    trigger: e.trigger,
    status: e.status,
    flinkState: e.flinkState,
    flinkJobId: e.flinkJobId,
    flinkJarId: e.flinkJarId,
    savepointPath: e.savepointPath,
    savepointLocation: e.savepointLocation,
    // What it runs (ran), as copied from the job at start; null when it runs nothing.
    definition: e.definition
      ? {
          jarURL: e.definition.jarUrl,
          entryClass: e.definition.entryClass,
          config: e.definition.config,
          programArgs: programArgsFrom(e.definition.config),
          parallelism: e.parallelism,
          savepointPath: e.savepointPath,
          allowNonRestoredState: e.allowNonRestoredState,
          jobVersion: e.definition.jobVersion,
        }
      : null,
    errorMessage: e.errorMessage,
    attempt: e.attempt,
    scheduledFor: iso(e.scheduledFor),
    createdAt: e.createdAt.toISOString(),
    submittedAt: iso(e.submittedAt),
    startedAt: iso(e.startedAt),
    finishedAt: iso(e.finishedAt),
  };
}

/** The ETag of a job: its version, as a strong entity tag. */
export const jobETag = (job: Job) => `"${job.version}"`;
