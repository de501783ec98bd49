import { OVERLAP_POLICIES, REPLACE_MODES, SCHEDULE_ACTIONS } from '@flink-orchestrator/domain';
import { exactly, instant, nullable, orNull, ref, uuid, type JsonSchema } from '../shared/schemas';

const SCHEDULE_FIELDS = {
  cron: { type: 'string', description: '5 fields, or 6 with seconds first' },
  timezone: { type: 'string', description: 'IANA time zone' },
  overlap: { enum: [...OVERLAP_POLICIES] },
  replace: {
    enum: [...REPLACE_MODES, null],
    description: 'with overlap "replace": how the active execution is stopped; null otherwise',
  },
  startAt: nullable(instant),
  endAt: nullable(instant),
  nextRuns: { type: 'array', items: instant, description: 'the next ticks; none while the job is disabled' },
  lastRunAt: nullable(instant),
  paused: { type: 'boolean', description: 'the job is disabled' },
  preflightMinutes: {
    type: ['integer', 'null'],
    minimum: 1,
    description: 'the job is checked on its cluster (JAR uploaded, plan built) this many minutes before each tick',
  },
  preflight: {
    description: 'the latest check before a tick; null before the first',
    ...orNull(ref('PreflightCheck')),
  },
};

/** What the schedules routes answer. */
export const SCHEDULE_SCHEMAS: Record<string, JsonSchema> = {
  ActionSchedule: exactly(
    {
      id: uuid,
      jobId: uuid,
      action: { enum: [...SCHEDULE_ACTIONS] },
      cron: { type: 'string' },
      timezone: { type: 'string' },
      savepoint: { type: ['boolean', 'null'], description: 'a stop: with a savepoint; null for the other actions' },
      drain: { type: ['boolean', 'null'], description: 'a stop with a savepoint: drain first; null for the others' },
      restoreFrom: { enum: ['latest-savepoint', null], description: 'a start: from the newest savepoint' },
      startAt: nullable(instant),
      endAt: nullable(instant),
      lastRunAt: nullable(instant),
      nextRuns: { type: 'array', items: instant },
      recentTicks: {
        type: 'array',
        description: 'what its latest ticks did, newest first',
        items: exactly({
          scheduledFor: instant,
          outcome: { enum: ['pending', 'done', 'skipped', 'missed', 'failed', 'abandoned'] },
          detail: { type: ['string', 'null'] },
        }),
      },
      createdAt: instant,
    },
    { description: 'A schedule besides the start schedule: each tick starts, stops or takes a savepoint.' },
  ),
  PreflightCheck: exactly(
    {
      scheduledFor: { ...instant, description: 'the tick it was for' },
      checkedAt: instant,
      ok: { type: 'boolean', description: 'Flink accepted the program' },
      message: { type: ['string', 'null'], description: "why not: Flink's reason, or what could not be reached" },
    },
    { description: 'A check of the job on its cluster before a tick.' },
  ),
  Schedule: exactly(SCHEDULE_FIELDS),
  ScheduleEntry: exactly({ jobId: uuid, jobName: { type: 'string' }, ...SCHEDULE_FIELDS }),
};
