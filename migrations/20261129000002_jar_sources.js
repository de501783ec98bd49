// @ts-check
// What each JAR URL served last time, known by a strong ETag: the next start of an
// unchanged JAR asks the data-processor with If-None-Match and skips the download.

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  await knex.schema.createTable('jar_sources', (t) => {
    t.text('url').primary();
    t.text('etag').notNullable();
    t.text('sha256').notNullable();
    t.timestamp('checked_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('jar_sources');
};
