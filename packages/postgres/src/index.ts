import knexFactory, { type Knex } from 'knex';
import { knexConfig } from './knex-config';

export { knexConfig, MIGRATIONS_DIRECTORY } from './knex-config';
export { migrateToLatest } from './migrate';
export { isConnectionError } from './connection-errors';
export { KnexJobRepository } from './job-repository';
export { KnexExecutionRepository } from './execution-repository';
export { KnexJarRegistry } from './jar-registry';
export type { Knex } from 'knex';

/** Where knex's own warnings go; without one knex prints multi-line stacks to the console. */
export interface DatabaseLogger {
  warn(obj: object, msg?: string): void;
}

export function connect(databaseUrl: string, pool?: { min?: number; max?: number }, log?: DatabaseLogger): Knex {
  const config = knexConfig(databaseUrl, pool);
  if (log) {
    // knex hands over strings with a stack appended; the first line is what an operator needs.
    const warn = (message: unknown) => log.warn({ detail: String(message).split('\n')[0] }, 'knex warning');
    config.log = { warn, error: warn, deprecate: warn, debug: () => undefined };
  }
  return knexFactory(config);
}

export async function pingPostgres(db: Knex): Promise<void> {
  await db.raw('SELECT 1');
}
