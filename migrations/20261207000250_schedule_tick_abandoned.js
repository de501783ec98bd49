// @ts-check
// Action ticks a worker claimed (`pending`) and never settled (it died after the claim) are
// settled `abandoned` by the chores once past SCHEDULE_TICK_ABANDON_AFTER; never run again.
// The partial index keeps that scan to the few pending rows.

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  await knex.raw('ALTER TABLE schedule_ticks DROP CONSTRAINT schedule_ticks_outcome_check');
  await knex.raw(
    "ALTER TABLE schedule_ticks ADD CONSTRAINT schedule_ticks_outcome_check CHECK (outcome IN ('pending', 'done', 'skipped', 'missed', 'failed', 'abandoned'))",
  );
  await knex.raw("CREATE INDEX schedule_ticks_pending_idx ON schedule_ticks (recorded_at) WHERE outcome = 'pending'");
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.raw('DROP INDEX schedule_ticks_pending_idx');
  await knex.raw("UPDATE schedule_ticks SET outcome = 'failed' WHERE outcome = 'abandoned'");
  await knex.raw('ALTER TABLE schedule_ticks DROP CONSTRAINT schedule_ticks_outcome_check');
  await knex.raw(
    "ALTER TABLE schedule_ticks ADD CONSTRAINT schedule_ticks_outcome_check CHECK (outcome IN ('pending', 'done', 'skipped', 'missed', 'failed'))",
  );
};
