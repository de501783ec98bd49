import type { Logger } from 'pino';
import { createLogger } from './logger';

/**
 * Runs `stop` once on SIGTERM or SIGINT and exits 0 when it finishes, or 1 when it
 * overruns `timeoutMs` (the orchestrator, say Kubernetes, would kill us anyway).
 */
export function stopOnSignals(log: Logger, timeoutMs: number, stop: () => Promise<void>): void {
  let stopping = false;
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      log.error({ timeoutMs }, 'shutdown timed out');
      process.exit(1);
    }, timeoutMs + 5000);
    timer.unref();
    stop()
      .then(() => {
        log.info({}, 'shut down cleanly');
        process.exit(0);
      })
      .catch((error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', handle);
  process.on('SIGINT', handle);
}

/** Prints a start-up failure readably and exits: configuration errors are not stack traces. */
export function exitOnStartupFailure(name: string, error: unknown): never {
  const message =
    error instanceof Error
      ? error.name === 'ConfigError'
        ? error.message
        : `${error.name}: ${error.message}`
      : String(error);
  process.stderr.write(`${name} could not start: ${message}\n`);
  process.exit(1);
}

/**
 * A service process from start to end: reads the configuration, starts the service with a
 * logger of its name, closes it on SIGTERM or SIGINT (`stopOnSignals`), and exits readably
 * when it cannot start (`exitOnStartupFailure`).
 */
export function runService<C extends { logLevel: string; shutdownTimeoutMs: number }>(
  name: string,
  loadConfig: () => C,
  start: (config: C, log: Logger) => Promise<{ close(): Promise<void> }>,
): void {
  const main = async () => {
    const config = loadConfig();
    const log = createLogger({ level: config.logLevel, name });
    const service = await start(config, log);
    stopOnSignals(log, config.shutdownTimeoutMs, () => service.close());
  };
  main().catch((error: unknown) => exitOnStartupFailure(name, error));
}
