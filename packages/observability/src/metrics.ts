import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The help text of every metric, by its Prometheus name: a metric without one does not compile. */
const HELP = {
  http_requests_total: 'HTTP requests by method, route and status.',
  http_request_duration_seconds: 'HTTP request latency by method and route.',
  flink_executions: 'Executions by status (from PostgreSQL).',
  pipeline_stage_duration_seconds: 'Pipeline stage durations: download_upload, run, to_running (request to RUNNING).',
  flink_api_calls_total: 'Flink REST calls by endpoint and outcome.',
  flink_api_call_duration_seconds: 'Flink REST call latency by endpoint.',
  queue_jobs: 'BullMQ jobs per queue and state (waiting, active, delayed, failed).',
  schedule_tick_lateness_seconds: 'Actual minus nominal fire time of schedule ticks.',
  schedule_ticks_total: 'Schedule ticks by outcome (started, skipped, missed, duplicate, ignored).',
  jar_cache_total:
    'JAR uploads avoided (hit; not_modified: the download too; cached: every request, JAR_REUSE_MS) or made (miss).',
  cluster_observation_duration_seconds:
    'One observation of a Flink cluster by its observer (one job list, plus the changes).',
  cluster_reachable: 'Whether the last observation of a Flink cluster reached its JobManager (1) or not (0).',
  cluster_observed_executions: 'Executions the observer followed on a cluster at its last observation.',
  executions_ended_total:
    'Executions this process recorded ended, by status (FINISHED, STOPPED, CANCELLED, FAILED, LOST); ticks that did not run are in schedule_ticks_total.',
  events_relayed_total:
    'Events the relay handed to the fan-out, by type: only those some webhook wants (an event none wants is stored published).',
  event_outbox_pending: "Events committed but not yet handed to the fan-out, at the relay's last pass.",
  webhook_deliveries_total: 'Webhook delivery attempts by outcome (delivered, retrying, failed, skipped).',
  webhook_delivery_duration_seconds: 'Time a webhook receiver took to answer a delivery.',
} as const;

type MetricName = keyof typeof HELP;

/** Histogram buckets, in seconds. */
const BUCKETS = {
  http: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  stage: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
  flink: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
  webhook: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  lateness: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 60],
};

/**
 * Every metric the service exposes, in one place so names stay consistent across the
 * API and the worker. Each process creates one `Metrics` and serves `registry`.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly httpRequests = this.counter('http_requests_total', ['method', 'route', 'status']);
  readonly httpDuration = this.histogram('http_request_duration_seconds', BUCKETS.http, ['method', 'route']);
  readonly executionsByStatus = this.gauge('flink_executions', ['status']);
  readonly stageDuration = this.histogram('pipeline_stage_duration_seconds', BUCKETS.stage, ['stage']);
  readonly flinkCalls = this.counter('flink_api_calls_total', ['endpoint', 'outcome']);
  readonly flinkCallDuration = this.histogram('flink_api_call_duration_seconds', BUCKETS.flink, ['endpoint']);
  readonly queueJobs = this.gauge('queue_jobs', ['queue', 'state']);
  readonly scheduleLateness = this.histogram('schedule_tick_lateness_seconds', BUCKETS.lateness);
  readonly scheduleTicks = this.counter('schedule_ticks_total', ['outcome']);
  readonly jarCache = this.counter('jar_cache_total', ['result']);
  readonly observationDuration = this.histogram('cluster_observation_duration_seconds', BUCKETS.flink, ['cluster']);
  readonly clusterReachable = this.gauge('cluster_reachable', ['cluster']);
  readonly observedExecutions = this.gauge('cluster_observed_executions', ['cluster']);
  readonly executionsEnded = this.counter('executions_ended_total', ['status']);
  readonly eventsRelayed = this.counter('events_relayed_total', ['type']);
  readonly outboxPending = this.gauge('event_outbox_pending', []);
  readonly webhookDeliveries = this.counter('webhook_deliveries_total', ['outcome']);
  readonly webhookDuration = this.histogram('webhook_delivery_duration_seconds', BUCKETS.webhook);

  constructor(processName: string) {
    this.registry.setDefaultLabels({ process: processName });
    collectDefaultMetrics({ register: this.registry });
  }

  private counter<L extends string>(name: MetricName, labelNames: readonly L[]): Counter<L> {
    return new Counter({ name, help: HELP[name], labelNames, registers: [this.registry] });
  }

  private gauge<L extends string>(name: MetricName, labelNames: readonly L[]): Gauge<L> {
    return new Gauge({ name, help: HELP[name], labelNames, registers: [this.registry] });
  }

  private histogram<L extends string = never>(
    name: MetricName,
    buckets: number[],
    labelNames: readonly L[] = [],
  ): Histogram<L> {
    return new Histogram({ name, help: HELP[name], buckets, labelNames, registers: [this.registry] });
  }
}
