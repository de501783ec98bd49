import type {
  ActionOptions,
  ActionSchedule,
  ActionScheduleRepository,
  ActionTickOutcome,
  NewActionSchedule,
  ScheduleAction,
  ScheduleTick,
} from '@flink-orchestrator/domain';
import type { Knex } from 'knex';
import { audited } from './audit-log';
import { guarded, isForeignKeyViolation } from './connection-errors';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface ScheduleRow {
  id: string;
  job_id: string;
  action: ScheduleAction;
  cron: string;
  timezone: string;
  options: ActionOptions;
  start_at: Date | null;
  end_at: Date | null;
  last_run_at: Date | null;
  created_at: Date;
}

interface TickRow {
  schedule_id: string;
  scheduled_for: Date;
  outcome: ActionTickOutcome;
  detail: string | null;
  recorded_at: Date;
}

function toSchedule(row: ScheduleRow): ActionSchedule {
  return {
    id: row.id,
    jobId: row.job_id,
    action: row.action,
    cron: row.cron,
    timezone: row.timezone,
    options: row.options,
    startAt: row.start_at,
    endAt: row.end_at,
    lastRunAt: row.last_run_at,
    createdAt: row.created_at,
  };
}

function toTick(row: TickRow): ScheduleTick {
  return {
    scheduleId: row.schedule_id,
    scheduledFor: row.scheduled_for,
    outcome: row.outcome,
    detail: row.detail,
    recordedAt: row.recorded_at,
  };
}

export class KnexActionScheduleRepository implements ActionScheduleRepository {
  constructor(private readonly db: Knex) {}

  create(schedule: NewActionSchedule): Promise<ActionSchedule | null> {
    return guarded(async () => {
      try {
        const insert = async (db: Knex) => {
          const [row] = await db<ScheduleRow>('job_schedules')
            .insert({
              job_id: schedule.jobId,
              action: schedule.action,
              cron: schedule.cron,
              timezone: schedule.timezone,
              options: JSON.stringify(schedule.options) as unknown as ActionOptions,
              start_at: schedule.startAt,
              end_at: schedule.endAt,
            })
            .returning('*');
          return toSchedule(row as ScheduleRow);
        };
        return await audited(this.db, insert, (created) => ({ id: created.id }));
      } catch (error) {
        if (isForeignKeyViolation(error)) return null;
        throw error;
      }
    });
  }

  get(id: string): Promise<ActionSchedule | null> {
    if (!UUID.test(id)) return Promise.resolve(null);
    return guarded(async () => {
      const row = await this.db<ScheduleRow>('job_schedules').where({ id }).first();
      return row ? toSchedule(row) : null;
    });
  }

  listByJob(jobId: string): Promise<ActionSchedule[]> {
    return guarded(async () =>
      (await this.db<ScheduleRow>('job_schedules').where({ job_id: jobId }).orderBy(['created_at', 'id'])).map(
        toSchedule,
      ),
    );
  }

  listAll(): Promise<ActionSchedule[]> {
    return guarded(async () => (await this.db<ScheduleRow>('job_schedules').select('*')).map(toSchedule));
  }

  delete(jobId: string, id: string): Promise<boolean> {
    if (!UUID.test(id)) return Promise.resolve(false);
    return guarded(() =>
      audited(this.db, async (db) => (await db('job_schedules').where({ id, job_id: jobId }).delete()) > 0),
    );
  }

  claimTick(scheduleId: string, scheduledFor: Date): Promise<boolean> {
    return guarded(async () => {
      // One statement: the claim and the schedule's last run, or nothing when claimed before.
      const { rows } = await this.db.raw<{ rows: unknown[] }>(
        `WITH claimed AS (
           INSERT INTO schedule_ticks (schedule_id, scheduled_for, outcome)
           VALUES (:scheduleId, :scheduledFor, 'pending')
           ON CONFLICT DO NOTHING RETURNING scheduled_for),
         marked AS (
           UPDATE job_schedules SET last_run_at = GREATEST(last_run_at, :scheduledFor::timestamptz)
            WHERE id = :scheduleId AND EXISTS (SELECT 1 FROM claimed))
         SELECT 1 FROM claimed`,
        { scheduleId, scheduledFor },
      );
      return rows.length > 0;
    });
  }

  recordTick(scheduleId: string, scheduledFor: Date, outcome: ActionTickOutcome, detail: string): Promise<void> {
    return guarded(async () => {
      // One statement: the row, and the last run the catch-up of dropped ticks starts from.
      await this.db.raw(
        `WITH recorded AS (
           INSERT INTO schedule_ticks (schedule_id, scheduled_for, outcome, detail)
           VALUES (:scheduleId, :scheduledFor, :outcome, :detail)
           ON CONFLICT DO NOTHING RETURNING scheduled_for)
         UPDATE job_schedules SET last_run_at = GREATEST(last_run_at, :scheduledFor::timestamptz)
          WHERE id = :scheduleId AND EXISTS (SELECT 1 FROM recorded)`,
        { scheduleId, scheduledFor, outcome, detail },
      );
    });
  }

  settleTick(scheduleId: string, scheduledFor: Date, outcome: ActionTickOutcome, detail: string): Promise<void> {
    return guarded(async () => {
      await this.db.raw(
        `UPDATE schedule_ticks
            SET outcome = :outcome,
                detail = CASE WHEN outcome = 'abandoned'
                              THEN :detail || ' (Recorded after the tick had been abandoned.)' ELSE :detail END
          WHERE schedule_id = :scheduleId AND scheduled_for = :scheduledFor AND outcome IN ('pending', 'abandoned')`,
        { scheduleId, scheduledFor, outcome, detail },
      );
    });
  }

  abandonPending(claimedBefore: Date, detail: string, limit: number): Promise<ScheduleTick[]> {
    return guarded(async () => {
      // SKIP LOCKED: a tick a worker is settling right now is left to it.
      const { rows } = await this.db.raw<{ rows: TickRow[] }>(
        `UPDATE schedule_ticks t SET outcome = 'abandoned', detail = :detail
           FROM (SELECT schedule_id, scheduled_for FROM schedule_ticks
                  WHERE outcome = 'pending' AND recorded_at < :claimedBefore
                  ORDER BY recorded_at LIMIT :limit FOR UPDATE SKIP LOCKED) stale
          WHERE t.schedule_id = stale.schedule_id AND t.scheduled_for = stale.scheduled_for
         RETURNING t.*`,
        { claimedBefore, detail, limit },
      );
      return rows.map(toTick);
    });
  }

  recentTicks(scheduleIds: readonly string[], limit: number): Promise<Map<string, ScheduleTick[]>> {
    if (scheduleIds.length === 0) return Promise.resolve(new Map<string, ScheduleTick[]>());
    return guarded(async () => {
      const { rows } = await this.db.raw<{ rows: TickRow[] }>(
        `SELECT t.* FROM unnest(:ids::uuid[]) AS s(id)
           CROSS JOIN LATERAL (SELECT * FROM schedule_ticks WHERE schedule_id = s.id
                                ORDER BY scheduled_for DESC LIMIT :limit) t`,
        { ids: [...scheduleIds], limit },
      );
      const ticks = new Map<string, ScheduleTick[]>();
      for (const row of rows) ticks.set(row.schedule_id, [...(ticks.get(row.schedule_id) ?? []), toTick(row)]);
      return ticks;
    });
  }
}
