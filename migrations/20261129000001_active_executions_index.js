// @ts-check
// The "is an execution of this job active?" check runs on every start and every schedule
// tick. Without this index it walks the job's history newest first until it meets an
// active row, which on a job with a long history and nothing running is all of it.
const ACTIVE = ['QUEUED', 'SUBMITTING', 'RUNNING', 'STOPPING'];

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  await knex.raw(
    `CREATE INDEX job_executions_active_idx ON job_executions (job_id, created_at DESC)
      WHERE status IN (${ACTIVE.map((s) => `'${s}'`).join(', ')})`,
  );
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.raw('DROP INDEX job_executions_active_idx');
};
