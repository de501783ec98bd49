import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Every metric the service exposes, in one place so names stay consistent across the
 * API and the worker. Each process creates one `Metrics` and serves `registry`.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by method, route and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by method and route.',
    labelNames: ['method', 'route'] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly executionsByStatus = new Gauge({
    name: 'flink_executions',
    help: 'Executions by status (from PostgreSQL).',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });

  readonly stageDuration = new Histogram({
    name: 'pipeline_stage_duration_seconds',
    help: 'Pipeline stage durations: download_upload, run, to_running (request to RUNNING).',
    labelNames: ['stage'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });

  readonly flinkCalls = new Counter({
    name: 'flink_api_calls_total',
    help: 'Flink REST calls by endpoint and outcome.',
    labelNames: ['endpoint', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly flinkCallDuration = new Histogram({
    name: 'flink_api_call_duration_seconds',
    help: 'Flink REST call latency by endpoint.',
    labelNames: ['endpoint'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
    registers: [this.registry],
  });

  readonly queueJobs = new Gauge({
    name: 'queue_jobs',
    help: 'BullMQ jobs per queue and state (waiting, active, delayed, failed).',
    labelNames: ['queue', 'state'] as const,
    registers: [this.registry],
  });

  readonly scheduleLateness = new Histogram({
    name: 'schedule_tick_lateness_seconds',
    help: 'Actual minus nominal fire time of schedule ticks.',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 60],
    registers: [this.registry],
  });

  readonly scheduleTicks = new Counter({
    name: 'schedule_ticks_total',
    help: 'Schedule ticks by outcome (started, skipped, missed, duplicate, ignored).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly jarCache = new Counter({
    name: 'jar_cache_total',
    help: 'JAR uploads avoided (hit; not_modified: the download too) or made (miss).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  constructor(processName: string) {
    this.registry.setDefaultLabels({ process: processName });
    collectDefaultMetrics({ register: this.registry });
  }
}
