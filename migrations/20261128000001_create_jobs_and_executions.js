// @ts-check
// Migrations are plain CommonJS so that `npm run migrate` (tsx) and the compiled API
// load the very same files: knex records file names with their extension.

const STATUSES = [
  'QUEUED',
  'SUBMITTING',
  'RUNNING',
  'STOPPING',
  'FINISHED',
  'FAILED',
  'CANCELLED',
  'STOPPED',
  'LOST',
  'SKIPPED',
  'MISSED',
];

// Millisecond precision: JavaScript dates carry no microseconds, and keyset pagination
// compares a cursor's timestamp with the stored one.
const MS_NOW = "date_trunc('milliseconds', clock_timestamp())";

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  await knex.schema.createTable('jobs', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.string('name', 255).notNullable().unique();
    t.text('jar_url').notNullable();
    t.text('entry_class');
    t.jsonb('config').notNullable().defaultTo('{}');
    t.integer('parallelism');
    t.boolean('enabled').notNullable().defaultTo(true);
    t.text('schedule_cron');
    t.text('schedule_timezone');
    t.text('schedule_overlap');
    t.timestamp('schedule_start_at', { useTz: true });
    t.timestamp('schedule_end_at', { useTz: true });
    t.timestamp('schedule_last_run_at', { useTz: true });
    t.integer('version').notNullable().defaultTo(1);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.raw(MS_NOW));
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.raw(MS_NOW));
    t.index(['created_at', 'id'], 'jobs_created_at_id_idx');
  });
  await knex.raw('CREATE INDEX jobs_scheduled_idx ON jobs (id) WHERE schedule_cron IS NOT NULL');

  await knex.schema.createTable('job_executions', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('job_id').notNullable().references('id').inTable('jobs').onDelete('CASCADE');
    t.text('trigger').notNullable();
    t.text('status').notNullable();
    t.text('flink_state');
    t.text('flink_job_id');
    t.text('flink_jar_id');
    t.text('jar_sha256');
    t.integer('parallelism');
    t.text('savepoint_path');
    t.boolean('allow_non_restored_state').notNullable().defaultTo(false);
    t.text('savepoint_location');
    t.boolean('stop_savepoint');
    t.boolean('stop_drain');
    t.timestamp('stop_requested_at', { useTz: true });
    t.text('error_message');
    t.integer('attempt').notNullable().defaultTo(0);
    t.timestamp('scheduled_for', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.raw(MS_NOW));
    t.timestamp('submitting_at', { useTz: true });
    t.timestamp('run_requested_at', { useTz: true });
    t.timestamp('submitted_at', { useTz: true });
    t.timestamp('started_at', { useTz: true });
    t.timestamp('finished_at', { useTz: true });
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.raw(MS_NOW));
  });
  await knex.raw(
    `ALTER TABLE job_executions ADD CONSTRAINT job_executions_status_check CHECK (status IN (${STATUSES.map((s) => `'${s}'`).join(', ')}))`,
  );
  // "Executions of a job, newest first" with keyset pagination.
  await knex.raw('CREATE INDEX job_executions_job_newest_idx ON job_executions (job_id, created_at DESC, id DESC)');
  // "Executions by status": the reconciler's and the tracker's worklist.
  await knex.raw('CREATE INDEX job_executions_status_idx ON job_executions (status, updated_at)');
  // One execution per schedule tick, whatever BullMQ delivers twice.
  await knex.raw(
    'CREATE UNIQUE INDEX job_executions_tick_uq ON job_executions (job_id, scheduled_for) WHERE scheduled_for IS NOT NULL',
  );
  await knex.raw('CREATE UNIQUE INDEX job_executions_flink_job_uq ON job_executions (flink_job_id)');

  await knex.schema.createTable('flink_jars', (t) => {
    t.text('sha256').primary();
    t.text('jar_id').notNullable();
    t.timestamp('uploaded_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('flink_jars');
  await knex.schema.dropTable('job_executions');
  await knex.schema.dropTable('jobs');
};
