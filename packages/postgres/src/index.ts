import knexFactory, { type Knex } from 'knex';
import type { ExecutionStatus } from '@flink-orchestrator/domain';
import { knexConfig } from './knex-config';
import { migrateToLatest } from './migrate';
import { KnexJobRepository } from './job-repository';
import { KnexExecutionRepository } from './execution-repository';
import { KnexJarRegistry } from './jar-registry';
import { KnexClusterRepository } from './cluster-repository';
import { KnexClusterObservations } from './cluster-observations';
import { KnexSavepointRepository } from './savepoint-repository';
import { KnexUpgradeRepository } from './upgrade-repository';
import { KnexActionScheduleRepository } from './action-schedule-repository';
import { KnexEventStore } from './event-store';
import { KnexWebhookRepository } from './webhook-repository';
import { KnexAuditLog } from './audit-log';

export { knexConfig, MIGRATIONS_DIRECTORY } from './knex-config';
export { migrateToLatest } from './migrate';
export { isConnectionError } from './connection-errors';
export { KnexJobRepository } from './job-repository';
export { KnexExecutionRepository, type ExecutionRepositoryOptions } from './execution-repository';
export { KnexJarRegistry } from './jar-registry';
export { KnexClusterRepository } from './cluster-repository';
export { KnexClusterObservations } from './cluster-observations';
export { KnexSavepointRepository } from './savepoint-repository';
export { KnexUpgradeRepository } from './upgrade-repository';
export { KnexActionScheduleRepository } from './action-schedule-repository';
export { KnexEventStore } from './event-store';
export { KnexWebhookRepository } from './webhook-repository';
export { KnexAuditLog, audited } from './audit-log';
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

/**
 * The PostgreSQL side of a process: the schema brought up to date when asked (replicas
 * starting together queue on an advisory lock), one pool, the repositories over it.
 */
export async function openStore(
  databaseUrl: string,
  options: {
    migrate: boolean;
    createDatabase: boolean;
    poolMax?: number;
    /** Told of each execution recorded ended (FINISHED, FAILED, LOST, ...): a metric. */
    onExecutionEnded?: (status: ExecutionStatus) => void;
  },
  log: DatabaseLogger & { info(obj: object, msg?: string): void },
): Promise<{
  db: Knex;
  jobs: KnexJobRepository;
  executions: KnexExecutionRepository;
  jarRegistry: KnexJarRegistry;
  clusters: KnexClusterRepository;
  observations: KnexClusterObservations;
  savepoints: KnexSavepointRepository;
  upgrades: KnexUpgradeRepository;
  actionSchedules: KnexActionScheduleRepository;
  events: KnexEventStore;
  webhooks: KnexWebhookRepository;
  audit: KnexAuditLog;
}> {
  if (options.migrate) await migrateToLatest(databaseUrl, log, { createDatabase: options.createDatabase });
  const db = connect(databaseUrl, options.poolMax ? { max: options.poolMax } : undefined, log);
  return {
    db,
    jobs: new KnexJobRepository(db),
    executions: new KnexExecutionRepository(db, { onEnded: options.onExecutionEnded }),
    jarRegistry: new KnexJarRegistry(db),
    clusters: new KnexClusterRepository(db),
    observations: new KnexClusterObservations(db),
    savepoints: new KnexSavepointRepository(db),
    upgrades: new KnexUpgradeRepository(db),
    actionSchedules: new KnexActionScheduleRepository(db),
    events: new KnexEventStore(db),
    webhooks: new KnexWebhookRepository(db),
    audit: new KnexAuditLog(db),
  };
}

export async function pingPostgres(db: Knex): Promise<void> {
  await db.raw('SELECT 1');
}
