// `npm run migrate`: applies pending migrations with the advisory lock the API uses at start.
import { loadConfig } from '@flink-orchestrator/config';
import { createLogger, exitOnStartupFailure } from '@flink-orchestrator/observability';
import { migrateToLatest } from '@flink-orchestrator/postgres';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger({ level: config.logLevel, name: 'migrate' });
  const applied = await migrateToLatest(config.databaseUrl, log, { createDatabase: config.createDatabase });
  log.info({ applied: applied.length }, applied.length ? 'migrations applied' : 'database already up to date');
}

main().catch((error: unknown) => exitOnStartupFailure('migrate', error));
