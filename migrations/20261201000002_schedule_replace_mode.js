// @ts-check
// How `overlap: replace` ends the running execution: 'savepoint' (the new execution restores
// from it) or 'cancel'. Set only while the overlap policy is replace. Existing replace
// schedules become 'cancel', the documented default.

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  await knex.schema.alterTable('jobs', (t) => {
    t.text('schedule_replace');
  });
  await knex.raw(
    "ALTER TABLE jobs ADD CONSTRAINT jobs_schedule_replace_check CHECK (schedule_replace IN ('savepoint', 'cancel'))",
  );
  await knex('jobs').where({ schedule_overlap: 'replace' }).update({ schedule_replace: 'cancel' });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('jobs', (t) => {
    t.dropColumn('schedule_replace');
  });
};
