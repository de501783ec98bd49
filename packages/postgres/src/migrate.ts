import knexFactory from 'knex';
import { Client } from 'pg';
import { knexConfig } from './knex-config';

export interface MigrateLogger {
  info(obj: object, msg?: string): void;
}

// Any constant works; it only has to be the same in every replica.
const MIGRATION_LOCK_KEY = 727_431_001;

/**
 * Applies pending migrations. Replicas starting together queue on a PostgreSQL advisory
 * lock, so exactly one migrates and the others find nothing left to do.
 */
export async function migrateToLatest(
  databaseUrl: string,
  log: MigrateLogger,
  options: { createDatabase?: boolean } = {},
): Promise<string[]> {
  await ensureDatabase(databaseUrl, log, options.createDatabase ?? false);
  const lock = new Client({ connectionString: databaseUrl });
  await lock.connect();
  const knex = knexFactory(knexConfig(databaseUrl, { max: 1 }));
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const [, applied] = (await knex.migrate.latest()) as [number, string[]];
    if (applied.length > 0) log.info({ migrations: applied }, 'database migrated');
    return applied;
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await lock.end();
    await knex.destroy();
  }
}

/** A missing database is created when allowed (development), otherwise named plainly. */
async function ensureDatabase(databaseUrl: string, log: MigrateLogger, create: boolean): Promise<void> {
  const probe = new Client({ connectionString: databaseUrl });
  try {
    await probe.connect();
    await probe.end();
    return;
  } catch (error) {
    await probe.end().catch(() => undefined);
    if ((error as { code?: string }).code !== '3D000') throw error;
  }
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  if (!create) {
    throw new Error(
      `Database "${name}" does not exist on ${url.host}: create it (createdb ${name}) or fix DATABASE_URL.`,
    );
  }
  url.pathname = '/postgres';
  const admin = new Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
    log.info({ database: name }, 'database did not exist; created it');
  } catch (error) {
    // Another replica created it first.
    if ((error as { code?: string }).code !== '42P04') throw error;
  } finally {
    await admin.end();
  }
}
