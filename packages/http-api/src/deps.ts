import type {
  CancelUnownedFlinkJob,
  Clock,
  ClusterObservations,
  ManageClusters,
  ManageActionSchedules,
  ManageJobs,
  ManageSavepoints,
  ManageSchedules,
  ManageWebhooks,
  EventFeed,
  AuditLog,
  ReadExecutions,
  RequestStop,
  RequestUpgrade,
  StartExecution,
  ValidateOnFlink,
} from '@flink-orchestrator/domain';
import type { Logger, Metrics } from '@flink-orchestrator/observability';
import type { TokenAuthority } from './auth';

export interface HealthCheck {
  name: string;
  check: () => Promise<void>;
  /**
   * Reported ("ok" or "unreachable") without deciding readiness: the API works without it
   * (Flink). Its own adapter logs when it goes and comes back, so a failure here logs nothing.
   */
  informational?: boolean;
}

/** What the HTTP adapter needs: use cases and health probes, nothing about storage. */
export interface ApiDependencies {
  jobs: ManageJobs;
  clusters: ManageClusters;
  /** What the observer last saw of each cluster: read only, never a call to Flink per request. */
  observations: ClusterObservations;
  /** Cancelling a Flink job no active execution owns. */
  flinkJobs: CancelUnownedFlinkJob;
  schedules: ManageSchedules;
  /** Checks a program on its cluster (upload, plan) without running it. */
  validation: ValidateOnFlink;
  starts: StartExecution;
  stops: RequestStop;
  /** A job's schedules besides its start schedule: start, stop, savepoint. */
  actionSchedules: ManageActionSchedules;
  /** Upgrades that keep state: asked for here, carried out by the workers. */
  upgrades: RequestUpgrade;
  /** Savepoints as records: take, list, dispose of; and which executions produced which. */
  savepoints: ManageSavepoints;
  history: ReadExecutions;
  /** Where events are POSTed, and their deliveries. */
  webhooks: ManageWebhooks;
  /** The outbox as a feed: followed with a cursor, without webhooks. */
  events: EventFeed;
  /** The audit trail: read here; written by the storage adapter with each change. */
  audit?: AuditLog;
  health: HealthCheck[];
  clock: Clock;
  log: Logger;
  /** Null only when authentication was explicitly disabled (AUTH_DISABLED=true). */
  auth: { tokens: TokenAuthority | null; metricsToken?: string | null };
  /** Origins allowed by CORS; none means CORS is off. */
  corsOrigins?: string[];
  /** Request body limit, e.g. "256kb". */
  bodyLimit?: string;
  /** Served at /metrics; `refresh` updates gauges read from PostgreSQL and Redis just before a scrape. */
  metrics?: { metrics: Metrics; refresh(): Promise<void> };
}
