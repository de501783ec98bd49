import type {
  ActionScheduleDetail,
  ActionTickOutcome,
  Job,
  PreflightCheck,
  Schedule,
  ScheduleAction,
} from '@flink-orchestrator/domain';
import { iso, type Instant } from '../shared/views';

/** A schedule: the fields it shows as the domain holds them, and instants as strings. */
export interface ScheduleView extends Pick<Schedule, 'cron' | 'timezone' | 'overlap' | 'replace'> {
  startAt: Instant | null;
  endAt: Instant | null;
  nextRuns: Instant[];
  lastRunAt: Instant | null;
  paused: boolean;
  preflightMinutes: number | null;
  /** The latest check before a tick. */
  preflight: PreflightView | null;
}

export interface PreflightView {
  scheduledFor: Instant;
  checkedAt: Instant;
  ok: boolean;
  message: string | null;
}

export function preflightView(check: PreflightCheck | null): PreflightView | null {
  return check
    ? {
        scheduledFor: check.scheduledFor.toISOString(),
        checkedAt: check.checkedAt.toISOString(),
        ok: check.ok,
        message: check.message,
      }
    : null;
}

export interface ScheduleEntryView extends ScheduleView {
  jobId: string;
  jobName: string;
}

export function scheduleView(job: Job, nextRuns: Date[]): ScheduleView | null {
  if (!job.schedule) return null;
  return {
    cron: job.schedule.cron,
    timezone: job.schedule.timezone,
    overlap: job.schedule.overlap,
    replace: job.schedule.replace,
    startAt: iso(job.schedule.startAt),
    endAt: iso(job.schedule.endAt),
    nextRuns: job.enabled ? nextRuns.map((d) => d.toISOString()) : [],
    lastRunAt: iso(job.schedule.lastRunAt),
    paused: !job.enabled,
    preflightMinutes: job.schedule.preflightMinutes,
    preflight: preflightView(job.schedule.preflight),
  };
}

/** An entry of GET /api/v1/schedules: a scheduled job's schedule, with the job's id and name. */
export function scheduleEntryView(job: Job, nextRuns: Date[]): ScheduleEntryView {
  // Only scheduled jobs are listed, so the schedule is there.
  return { jobId: job.id, jobName: job.name, ...(scheduleView(job, nextRuns) as ScheduleView) };
}

export interface ActionScheduleView {
  id: string;
  jobId: string;
  action: ScheduleAction;
  cron: string;
  timezone: string;
  savepoint: boolean | null;
  drain: boolean | null;
  restoreFrom: 'latest-savepoint' | null;
  startAt: Instant | null;
  endAt: Instant | null;
  lastRunAt: Instant | null;
  nextRuns: Instant[];
  /** What its latest ticks did, newest first. */
  recentTicks: { scheduledFor: Instant; outcome: ActionTickOutcome; detail: string | null }[];
  createdAt: Instant;
}

export function actionScheduleView({ schedule: s, nextRuns, recentTicks }: ActionScheduleDetail): ActionScheduleView {
  const stop = s.action === 'stop';
  return {
    id: s.id,
    jobId: s.jobId,
    action: s.action,
    cron: s.cron,
    timezone: s.timezone,
    // What a stop does, defaults shown; null for the other actions.
    savepoint: stop ? (s.options.savepoint ?? true) : null,
    drain: stop ? (s.options.drain ?? false) : null,
    restoreFrom: s.action === 'start' ? (s.options.restoreFrom ?? null) : null,
    startAt: iso(s.startAt),
    endAt: iso(s.endAt),
    lastRunAt: iso(s.lastRunAt),
    nextRuns: nextRuns.map((d) => d.toISOString()),
    recentTicks: recentTicks.map((t) => ({
      scheduledFor: t.scheduledFor.toISOString(),
      outcome: t.outcome,
      detail: t.detail,
    })),
    createdAt: s.createdAt.toISOString(),
  };
}
