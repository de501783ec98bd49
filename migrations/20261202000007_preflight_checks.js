// @ts-check
// Checks before a scheduled run: a start schedule may ask for the job to be checked on its
// Flink cluster (JAR uploaded, plan built) a few minutes before each tick.
//
// `jobs.schedule_preflight_minutes` is how many minutes before; `jobs.schedule_preflight`
// the latest check ({scheduledFor, checkedAt, ok, message}), shown with the schedule so that
// a failing check is seen before the tick; `job_executions.preflight` the check of the
// tick that created the execution, recorded on it.

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  await knex.schema.alterTable('jobs', (t) => {
    t.integer('schedule_preflight_minutes');
    t.jsonb('schedule_preflight');
  });
  await knex.schema.alterTable('job_executions', (t) => {
    t.jsonb('preflight');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('job_executions', (t) => {
    t.dropColumn('preflight');
  });
  await knex.schema.alterTable('jobs', (t) => {
    t.dropColumn('schedule_preflight');
    t.dropColumn('schedule_preflight_minutes');
  });
};
