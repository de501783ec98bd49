// @ts-check
// Tracking in O(clusters) and slot-aware admission.
//
// `cluster_observations` holds what the observer last saw of each cluster (one row per
// cluster, replaced each time something changes): reachability and since when, the slot
// figures of GET /overview, and the jobs Flink runs that no execution owns. It is its own
// table so that the observer's writes never move a cluster's `version` (which makes every
// worker rebuild its client) nor wait on the API's row locks.
//
// A job's `admission` says whether a submission waits for free slots ('slots', the default)
// or goes to Flink regardless ('ignore'); executions copy it with the definition. `waiting`
// holds why a QUEUED execution has not been admitted yet, with the figures that decided it.
// Observed executions are read by cluster every poll: the partial index covers exactly them.

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  await knex.schema.createTable('cluster_observations', (t) => {
    t.text('cluster').primary().references('name').inTable('clusters').onDelete('CASCADE');
    t.boolean('reachable').notNullable();
    t.timestamp('reachable_since', { useTz: true }).notNullable();
    t.timestamp('observed_at', { useTz: true }).notNullable();
    t.text('last_error');
    t.integer('running_jobs');
    // GET /overview and parallelism.default, read at a slower pace than the jobs.
    t.integer('task_managers');
    t.integer('slots_total');
    t.integer('slots_free');
    t.integer('default_parallelism');
    t.text('flink_version');
    t.timestamp('slots_observed_at', { useTz: true });
    t.jsonb('unmanaged_jobs').notNullable().defaultTo('[]');
    t.jsonb('drifted_executions').notNullable().defaultTo('[]');
  });

  await knex.schema.alterTable('jobs', (t) => {
    t.text('admission').notNullable().defaultTo('slots');
  });
  await knex.raw("ALTER TABLE jobs ADD CONSTRAINT jobs_admission_check CHECK (admission IN ('slots', 'ignore'))");
  await knex.schema.alterTable('job_executions', (t) => {
    t.text('admission').notNullable().defaultTo('slots');
    t.jsonb('waiting');
  });
  await knex.raw(
    `CREATE INDEX job_executions_observed_idx ON job_executions (cluster)
      WHERE status IN ('SUBMITTING', 'RUNNING', 'STOPPING')`,
  );
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.raw('DROP INDEX IF EXISTS job_executions_observed_idx');
  await knex.schema.alterTable('job_executions', (t) => {
    t.dropColumn('waiting');
    t.dropColumn('admission');
  });
  await knex.schema.alterTable('jobs', (t) => {
    t.dropColumn('admission');
  });
  await knex.schema.dropTable('cluster_observations');
};
