// @ts-check
// Restart on failure.
//
// `jobs.restart_policy` holds the job's policy as the API took it (null: never restart).
// A restart is an execution of its own (trigger 'restart') that names the execution it
// replaces in `restart_of`; the unique index makes "exactly one restart per failure" a
// fact PostgreSQL enforces, whichever worker (or the sweep after a crash) gets there.
// `not_before` holds the restart's backoff in the row, so a redelivered or reconciled
// message still waits it out. `restart_decision` on the failed execution records what was
// decided (restarted, or why not), and is what the sweep looks for when it is missing.

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  await knex.schema.alterTable('jobs', (t) => {
    t.jsonb('restart_policy');
  });
  await knex.schema.alterTable('job_executions', (t) => {
    t.uuid('restart_of').references('id').inTable('job_executions').onDelete('SET NULL');
    t.timestamp('not_before', { useTz: true });
    t.jsonb('restart_decision');
  });
  await knex.raw(
    'CREATE UNIQUE INDEX job_executions_restart_of_uq ON job_executions (restart_of) WHERE restart_of IS NOT NULL',
  );
  // The window count: restarts of one job since a moment.
  await knex.raw(
    "CREATE INDEX job_executions_restarts_idx ON job_executions (job_id, created_at) WHERE trigger = 'restart'",
  );
  // The sweep's worklist: failures not yet decided on.
  await knex.raw(
    `CREATE INDEX job_executions_undecided_idx ON job_executions (finished_at)
      WHERE status IN ('FAILED', 'LOST') AND restart_decision IS NULL AND started_at IS NOT NULL`,
  );
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.raw('DROP INDEX IF EXISTS job_executions_undecided_idx');
  await knex.raw('DROP INDEX IF EXISTS job_executions_restarts_idx');
  await knex.raw('DROP INDEX IF EXISTS job_executions_restart_of_uq');
  await knex.schema.alterTable('job_executions', (t) => {
    t.dropColumn('restart_decision');
    t.dropColumn('not_before');
    t.dropColumn('restart_of');
  });
  await knex.schema.alterTable('jobs', (t) => {
    t.dropColumn('restart_policy');
  });
};
