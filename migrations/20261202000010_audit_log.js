// @ts-check
// The audit trail: one row per change made through the API, written in the transaction of
// the change. `job_id` has no foreign key: the trail of a deleted job outlives it.

const MS_NOW = "date_trunc('milliseconds', clock_timestamp())";

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  await knex.schema.createTable('audit_log', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.raw(MS_NOW));
    t.text('actor').notNullable();
    t.text('action').notNullable();
    t.text('target_type').notNullable();
    t.text('target_id');
    t.uuid('job_id');
    t.jsonb('changes');
    t.text('request_id');
  });
  await knex.raw('CREATE INDEX audit_log_newest_idx ON audit_log (created_at DESC, id DESC)');
  await knex.raw(
    'CREATE INDEX audit_log_job_idx ON audit_log (job_id, created_at DESC, id DESC) WHERE job_id IS NOT NULL',
  );
  await knex.raw('CREATE INDEX audit_log_actor_idx ON audit_log (actor, created_at DESC, id DESC)');
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTableIfExists('audit_log');
};
