import { buildApi, type RunningApi } from '@flink-orchestrator/api';
import { createLogger } from '@flink-orchestrator/observability';
import { testConfig } from './test-env';

/** The API wired exactly as in production, in this process, on a free port. */
export async function startApi(overrides: Record<string, string> = {}): Promise<RunningApi> {
  const config = testConfig(overrides);
  return buildApi(config, createLogger({ level: config.logLevel, name: 'api-test' }));
}
