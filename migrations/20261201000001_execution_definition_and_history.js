// @ts-check
// What an execution runs, taken from the job when the execution is created, so an edit
// of the job between start and submission changes nothing and the record says what ran:
// the JAR URL and entry class as the job had them, its config (the program arguments are
// derived from it), and the job version they come from. Parallelism and the savepoint
// were recorded on the execution already. NULL on rows created before this migration and
// on rows that never run (SKIPPED, MISSED); a worker reads the job for the former.
//
// Two indexes for the history across jobs (GET /api/v1/executions, newest first, keyset
// on (created_at, id)): one for the unfiltered list and time ranges, one per status, which
// also serves the retention chore's "SKIPPED/MISSED older than N days" batches. And a
// small one for "the job's latest savepoint" (a restore, and the row retention keeps),
// which otherwise reads the job's whole history.

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  await knex.schema.alterTable('job_executions', (t) => {
    t.text('jar_url');
    t.text('entry_class');
    t.jsonb('config');
    t.integer('job_version');
  });
  await knex.raw('CREATE INDEX job_executions_newest_idx ON job_executions (created_at DESC, id DESC)');
  await knex.raw('CREATE INDEX job_executions_status_newest_idx ON job_executions (status, created_at DESC, id DESC)');
  await knex.raw(
    `CREATE INDEX job_executions_savepoint_idx ON job_executions (job_id, finished_at DESC NULLS FIRST, id DESC)
      WHERE savepoint_location IS NOT NULL`,
  );
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.raw('DROP INDEX job_executions_savepoint_idx');
  await knex.raw('DROP INDEX job_executions_status_newest_idx');
  await knex.raw('DROP INDEX job_executions_newest_idx');
  await knex.schema.alterTable('job_executions', (t) => {
    t.dropColumns('jar_url', 'entry_class', 'config', 'job_version');
  });
};
