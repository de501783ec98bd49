import type { Execution, Job } from '@flink-orchestrator/domain';

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
    errorMessage: e.errorMessage,
    attempt: e.attempt,
    scheduledFor: iso(e.scheduledFor),
    createdAt: e.createdAt.toISOString(),
    submittedAt: iso(e.submittedAt),
    startedAt: iso(e.startedAt),
    finishedAt: iso(e.finishedAt),
  };
}
