import { loadConfig } from '@flink-orchestrator/config';
import { runService } from '@flink-orchestrator/observability';
import { buildWorker } from './build-worker';

runService('worker', loadConfig, buildWorker);
