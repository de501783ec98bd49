import { loadConfig } from '@flink-orchestrator/config';
import { createLogger, exitOnStartupFailure, stopOnSignals } from '@flink-orchestrator/observability';
import { buildApi } from './build-api';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger({ level: config.logLevel, name: 'api' });
  const api = await buildApi(config, log);
  stopOnSignals(log, config.shutdownTimeoutMs, () => api.close());
}

main().catch((error: unknown) => exitOnStartupFailure('api', error));
