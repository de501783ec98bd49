import { migrateToLatest } from '@flink-orchestrator/postgres';
import { databaseUrl, deleteRedisKeys, dropDatabase, recreateDatabase, TEST_DATABASE } from './test-env';

const quiet = { info: () => undefined };

/** Once per run: a fresh test database with the schema; after, the database and this run's Redis keys go. */
export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(60_000);
    await recreateDatabase(TEST_DATABASE);
    await migrateToLatest(databaseUrl(), quiet);
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    await deleteRedisKeys();
    await dropDatabase(TEST_DATABASE);
  },
};
