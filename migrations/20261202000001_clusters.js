// @ts-check
// Many Flink clusters. A cluster is a JobManager REST endpoint known by a slug name, with
// optional credentials for a JobManager behind a proxy (write-only in the API) and its own
// savepoint directory. Jobs name the cluster they run on (a foreign key, so a cluster that
// jobs use cannot go); executions record the cluster they were submitted to, copied from the
// job when they are created (no foreign key: the history outlives a cluster). The JAR
// registry is per cluster: a JAR uploaded to one JobManager is unknown to another.
//
// Every existing job and execution belongs to `default`, which this migration creates; the
// API and the worker update its URL from FLINK_JOBMANAGER_URL when they start.

const MS_NOW = "date_trunc('milliseconds', clock_timestamp())";

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  await knex.schema.createTable('clusters', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('name').notNullable().unique();
    t.text('url').notNullable();
    t.jsonb('auth');
    t.text('savepoint_dir');
    t.integer('version').notNullable().defaultTo(1);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.raw(MS_NOW));
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.raw(MS_NOW));
    t.index(['created_at', 'id'], 'clusters_created_at_id_idx');
  });
  await knex('clusters').insert({ name: 'default', url: 'http://flink-jobmanager:8081' });

  await knex.schema.alterTable('jobs', (t) => {
    t.text('cluster').notNullable().defaultTo('default').references('name').inTable('clusters');
    t.index(['cluster'], 'jobs_cluster_idx');
  });
  await knex.schema.alterTable('job_executions', (t) => {
    t.text('cluster').notNullable().defaultTo('default');
  });

  await knex.schema.alterTable('flink_jars', (t) => {
    t.text('cluster').notNullable().defaultTo('default');
  });
  await knex.raw('ALTER TABLE flink_jars DROP CONSTRAINT flink_jars_pkey');
  await knex.raw('ALTER TABLE flink_jars ADD PRIMARY KEY (cluster, sha256)');
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex('flink_jars').whereNot({ cluster: 'default' }).delete();
  await knex.raw('ALTER TABLE flink_jars DROP CONSTRAINT flink_jars_pkey');
  await knex.schema.alterTable('flink_jars', (t) => {
    t.dropColumn('cluster');
  });
  await knex.raw('ALTER TABLE flink_jars ADD PRIMARY KEY (sha256)');
  await knex.schema.alterTable('job_executions', (t) => {
    t.dropColumn('cluster');
  });
  await knex.schema.alterTable('jobs', (t) => {
    t.dropColumn('cluster');
  });
  await knex.schema.dropTable('clusters');
};
