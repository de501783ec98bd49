import { loadConfig } from '@flink-orchestrator/config';
import { createLogger, exitOnStartupFailure, stopOnSignals } from '@flink-orchestrator/observability';
import { buildWorker } from './build-worker';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger({ level: config.logLevel, name: 'worker' });
  const worker = await buildWorker(config, log);
  stopOnSignals(log, config.shutdownTimeoutMs, () => worker.close());
}

main().catch((error: unknown) => exitOnStartupFailure('worker', error));
