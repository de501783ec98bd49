import { migrateToLatest } from '@flink-orchestrator/postgres';
import { expect } from 'chai';
import { Client } from 'pg';
import { databaseUrl, dropDatabase, recreateDatabase, TEST_DATABASE } from '../support/test-env';

describe('migrations', () => {
  const name = `${TEST_DATABASE}_migrations`;
  const quiet = { info: () => undefined };
  after(() => dropDatabase(name));

  it('build the schema from an empty database, and two replicas migrating at once both succeed', async () => {
    await recreateDatabase(name);
    const results = await Promise.all([
      migrateToLatest(databaseUrl(name), quiet),
      migrateToLatest(databaseUrl(name), quiet),
    ]);
    // Exactly one of them applied the migrations; the other found nothing to do.
    expect(results.map((r) => r.length).sort()).to.deep.equal([0, results.flat().length]);
    const db = new Client({ connectionString: databaseUrl(name) });
    await db.connect();
    try {
      const tables = await db.query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
      );
      expect(tables.rows.map((r) => r.table_name)).to.include.members([
        'jobs',
        'job_executions',
        'flink_jars',
        'knex_migrations',
      ]);
      const indexes = await db.query("SELECT indexname FROM pg_indexes WHERE tablename = 'job_executions'");
      expect(indexes.rows.map((r) => r.indexname)).to.include.members([
        'job_executions_job_newest_idx',
        'job_executions_active_idx',
        'job_executions_tick_uq',
      ]);
      // An update is HOT (no new index entries) only when it changes no column an index names,
      // as a key or in its predicate: the run request and the observer's Flink state are such.
      const defs = await db.query<{ def: string }>(
        "SELECT pg_get_indexdef(indexrelid) AS def FROM pg_index WHERE indrelid = 'job_executions'::regclass",
      );
      for (const column of [
        'updated_at',
        'run_requested_at',
        'flink_jar_id',
        'jar_sha256',
        'flink_state',
        'error_message',
      ])
        for (const { def } of defs.rows) expect(def, column).to.not.match(new RegExp(`\\b${column}\\b`));
      const options = await db.query<{ opts: string[] | null }>(
        "SELECT reloptions AS opts FROM pg_class WHERE oid = 'job_executions'::regclass",
      );
      expect(options.rows[0]?.opts).to.include('fillfactor=80');
    } finally {
      await db.end();
    }
    expect(await migrateToLatest(databaseUrl(name), quiet)).to.deep.equal([]);
  });

  it('a missing database is named plainly, or created when allowed', async () => {
    const missing = `${TEST_DATABASE}_missing`;
    await dropDatabase(missing);
    try {
      await migrateToLatest(databaseUrl(missing), quiet);
      expect.fail('should have refused');
    } catch (error) {
      expect((error as Error).message).to.equal(
        `Database "${missing}" does not exist on 127.0.0.1:5432: create it (createdb ${missing}) or fix DATABASE_URL.`,
      );
    }
    expect(await migrateToLatest(databaseUrl(missing), quiet, { createDatabase: true })).to.have.length.greaterThan(0);
    await dropDatabase(missing);
  });
});
