// @ts-check
// Scheduled actions: a job may have several schedules besides its start schedule (which
// stays on the jobs row, as the API has always had it). Each names an action: `start`,
// `stop` (with or without a savepoint), or `savepoint` (periodic savepoints).
//
// `schedule_ticks` records every tick of these schedules, once: its primary key is the
// (schedule, fire time) pair, claimed before the action runs, so a tick delivered twice
// (a stalled BullMQ job, two workers) acts once. The outcome says what the tick did, or
// why it did nothing (nothing running, too late, the action failed).

const MS_NOW = "date_trunc('milliseconds', clock_timestamp())";

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  await knex.schema.createTable('job_schedules', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('job_id').notNullable().references('id').inTable('jobs').onDelete('CASCADE');
    t.text('action').notNullable();
    t.text('cron').notNullable();
    t.text('timezone').notNullable();
    t.jsonb('options').notNullable().defaultTo('{}');
    t.timestamp('start_at', { useTz: true });
    t.timestamp('end_at', { useTz: true });
    t.timestamp('last_run_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.raw(MS_NOW));
  });
  await knex.raw(
    "ALTER TABLE job_schedules ADD CONSTRAINT job_schedules_action_check CHECK (action IN ('start', 'stop', 'savepoint'))",
  );
  await knex.raw('CREATE INDEX job_schedules_job_idx ON job_schedules (job_id, created_at)');
  await knex.schema.createTable('schedule_ticks', (t) => {
    t.uuid('schedule_id').notNullable().references('id').inTable('job_schedules').onDelete('CASCADE');
    t.timestamp('scheduled_for', { useTz: true }).notNullable();
    t.text('outcome').notNullable();
    t.text('detail');
    t.timestamp('recorded_at', { useTz: true }).notNullable().defaultTo(knex.raw(MS_NOW));
    t.primary(['schedule_id', 'scheduled_for']);
  });
  await knex.raw(
    "ALTER TABLE schedule_ticks ADD CONSTRAINT schedule_ticks_outcome_check CHECK (outcome IN ('pending', 'done', 'skipped', 'missed', 'failed'))",
  );
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('schedule_ticks');
  await knex.schema.dropTable('job_schedules');
};
