import { migrateToLatest } from '@flink-orchestrator/postgres';
import { databaseUrl, dropDatabase, recreateDatabase, TEST_DATABASE } from './test-env';

/**
 * A migrated database of one test file's own, next to the run's: counts over a whole table
 * (every PENDING delivery, every active execution) then see only that file's rows.
 */
export async function ownDatabase(suffix: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `${TEST_DATABASE}_${suffix}`;
  await recreateDatabase(name);
  await migrateToLatest(databaseUrl(name), { info: () => undefined });
  return { url: databaseUrl(name), drop: () => dropDatabase(name) };
}
