// @ts-check
// A start that restores from a path locks the savepoint records at that path (so that a
// disposal cannot commit between the start's check and its insert), and a disposal looks
// for active executions restoring from it across all jobs: both look savepoints up by
// location, and job_executions by savepoint path.

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  await knex.raw('CREATE INDEX savepoints_location_idx ON savepoints (location) WHERE location IS NOT NULL');
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.raw('DROP INDEX IF EXISTS savepoints_location_idx');
};
