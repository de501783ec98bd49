// @ts-check
// Upgrades that keep state: one tracked operation per upgrade.
//
// An upgrade of a running job stops it (with a savepoint, or a cancel), changes the job's
// definition, and starts it again from that savepoint. Each step is recorded as it is
// done (`step`, and the `steps` log), so that a failure midway says exactly where it
// stopped and how to recover, and a worker that crashes resumes at the step the row names.
// One upgrade at a time per job (the partial unique index). The execution an upgrade
// starts names it in `job_executions.upgrade_id` (unique: a retried step finds it).

const MS_NOW = "date_trunc('milliseconds', clock_timestamp())";

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  await knex.schema.createTable('upgrades', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('job_id').notNullable().references('id').inTable('jobs').onDelete('CASCADE');
    t.text('mode').notNullable();
    t.jsonb('changes').notNullable();
    t.boolean('allow_non_restored_state').notNullable().defaultTo(false);
    t.text('status').notNullable();
    t.text('step').notNullable();
    t.jsonb('steps').notNullable().defaultTo('[]');
    t.uuid('from_execution_id').references('id').inTable('job_executions').onDelete('SET NULL');
    t.uuid('to_execution_id').references('id').inTable('job_executions').onDelete('SET NULL');
    t.uuid('savepoint_id').references('id').inTable('savepoints').onDelete('SET NULL');
    t.text('savepoint_location');
    t.timestamp('stop_requested_at', { useTz: true });
    t.integer('job_version_before').notNullable();
    t.integer('job_version_after');
    t.text('error_message');
    t.text('recovery');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.raw(MS_NOW));
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.raw(MS_NOW));
    t.timestamp('finished_at', { useTz: true });
  });
  await knex.raw("ALTER TABLE upgrades ADD CONSTRAINT upgrades_mode_check CHECK (mode IN ('savepoint', 'cancel'))");
  await knex.raw(
    "ALTER TABLE upgrades ADD CONSTRAINT upgrades_status_check CHECK (status IN ('IN_PROGRESS', 'COMPLETED', 'FAILED'))",
  );
  await knex.raw("CREATE UNIQUE INDEX upgrades_one_per_job_uq ON upgrades (job_id) WHERE status = 'IN_PROGRESS'");
  await knex.raw('CREATE INDEX upgrades_job_idx ON upgrades (job_id, created_at DESC)');
  await knex.schema.alterTable('job_executions', (t) => {
    t.uuid('upgrade_id').references('id').inTable('upgrades').onDelete('SET NULL');
  });
  await knex.raw(
    'CREATE UNIQUE INDEX job_executions_upgrade_uq ON job_executions (upgrade_id) WHERE upgrade_id IS NOT NULL',
  );
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.raw('DROP INDEX IF EXISTS job_executions_upgrade_uq');
  await knex.schema.alterTable('job_executions', (t) => {
    t.dropColumn('upgrade_id');
  });
  await knex.schema.dropTable('upgrades');
};
