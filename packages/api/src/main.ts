import { loadConfig } from '@flink-orchestrator/config';
import { runService } from '@flink-orchestrator/observability';
import { buildApi } from './build-api';

runService('api', loadConfig, buildApi);
