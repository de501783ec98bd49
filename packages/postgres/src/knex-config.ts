import path from 'node:path';
import type { Knex } from 'knex';

export const MIGRATIONS_DIRECTORY = path.resolve(__dirname, '../../../migrations');

export function knexConfig(databaseUrl: string, pool: { min?: number; max?: number } = {}): Knex.Config {
  return {
    client: 'pg',
    // Fail fast while PostgreSQL is down so requests answer 503 instead of hanging.
    connection: { connectionString: databaseUrl, connectionTimeoutMillis: 3000 },
    pool: { min: pool.min ?? 0, max: pool.max ?? 10 },
    acquireConnectionTimeout: 5000,
    migrations: { directory: MIGRATIONS_DIRECTORY, loadExtensions: ['.js'], tableName: 'knex_migrations' },
  };
}
