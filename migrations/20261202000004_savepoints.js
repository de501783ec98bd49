// @ts-check
// Savepoints as records.
//
// One row per savepoint the orchestrator asked Flink for: a stop-with-savepoint, a manual
// one, a periodic one, an upgrade's. `trigger_id` is the id Flink's operation runs under;
// the orchestrator picks it (stable per request), so a retried request finds the same row
// and the same Flink operation. Disposal goes through Flink (`POST /savepoint-disposal`):
// `disposal_requested_at` is set when it is asked for, `disposal_trigger_id` once Flink took
// it, and `disposed_at` only when Flink reported it done: a row never says "disposed" while
// its files may still be there.
//
// `job_executions.savepoint_id` names the savepoint record an execution restored from, when
// it restored from one (a path given by hand, or a checkpoint, has none).
//
// Savepoints that stops produced before this table existed are copied in (kind 'stop').

// Milliseconds, as JavaScript dates hold them: the list's cursor compares what it was given.
const MS_NOW = "date_trunc('milliseconds', clock_timestamp())";

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  await knex.schema.createTable('savepoints', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('job_id').notNullable().references('id').inTable('jobs').onDelete('CASCADE');
    t.uuid('execution_id').references('id').inTable('job_executions').onDelete('SET NULL');
    t.text('cluster').notNullable();
    t.text('kind').notNullable();
    t.text('status').notNullable();
    t.text('trigger_id');
    t.text('location');
    t.text('error_message');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.raw(MS_NOW));
    t.timestamp('completed_at', { useTz: true });
    t.timestamp('disposal_requested_at', { useTz: true });
    t.text('disposal_trigger_id');
    t.text('disposal_error');
    t.timestamp('disposed_at', { useTz: true });
  });
  await knex.raw(
    "ALTER TABLE savepoints ADD CONSTRAINT savepoints_kind_check CHECK (kind IN ('stop', 'manual', 'periodic', 'upgrade'))",
  );
  await knex.raw(
    "ALTER TABLE savepoints ADD CONSTRAINT savepoints_status_check CHECK (status IN ('IN_PROGRESS', 'COMPLETED', 'FAILED'))",
  );
  await knex.raw('CREATE UNIQUE INDEX savepoints_trigger_uq ON savepoints (execution_id, trigger_id)');
  await knex.raw('CREATE INDEX savepoints_job_idx ON savepoints (job_id, created_at DESC)');
  // A job's own retention ({keepLast, maxAgeDays}); null: the service's defaults.
  await knex.schema.alterTable('jobs', (t) => {
    t.jsonb('savepoint_retention');
  });
  await knex.schema.alterTable('job_executions', (t) => {
    t.uuid('savepoint_id').references('id').inTable('savepoints').onDelete('SET NULL');
  });
  await knex.raw(`
    INSERT INTO savepoints (job_id, execution_id, cluster, kind, status, location, created_at, completed_at)
    SELECT job_id, id, cluster, 'stop', 'COMPLETED', savepoint_location, COALESCE(finished_at, updated_at), COALESCE(finished_at, updated_at)
      FROM job_executions WHERE savepoint_location IS NOT NULL`);
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('job_executions', (t) => {
    t.dropColumn('savepoint_id');
  });
  await knex.schema.alterTable('jobs', (t) => {
    t.dropColumn('savepoint_retention');
  });
  await knex.schema.dropTable('savepoints');
};
