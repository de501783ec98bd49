import {
  eventMessage,
  redactWebhookUrl,
  type AuditRecord,
  programArgsFrom,
  type OrchestratorEvent,
  type Webhook,
  type WebhookDelivery,
  type AdmissionMode,
  type Cluster,
  type ClusterObservation,
  type Execution,
  type FlinkCheck,
  type Job,
  type ProgramConfig,
  type RestartDecision,
  type RestartPolicy,
  type Savepoint,
  type SavepointKind,
  type SavepointRetention,
  type SavepointState,
  type Schedule,
  type PreflightCheck,
  type ScheduleAction,
  type ActionScheduleDetail,
  type ActionTickOutcome,
  type Upgrade,
  type UpgradeMode,
  type UpgradeStatus,
  type UpgradeStep,
} from '@flink-orchestrator/domain';

/*
 * What the API answers. The OpenAPI document describes these shapes in schemas.ts; the API
 * tests check every answer they receive against it, and views of sample records too.
 */

/** An instant as the API writes it: `Date.prototype.toISOString()`. */
type Instant = string;

/** A schedule: the fields it shows as the domain holds them, and instants as strings. */
export interface ScheduleView extends Pick<Schedule, 'cron' | 'timezone' | 'overlap' | 'replace'> {
  startAt: Instant | null;
  endAt: Instant | null;
  nextRuns: Instant[];
  lastRunAt: Instant | null;
  paused: boolean;
  preflightMinutes: number | null;
  /** The latest check before a tick. */
  preflight: PreflightView | null;
}

export interface PreflightView {
  scheduledFor: Instant;
  checkedAt: Instant;
  ok: boolean;
  message: string | null;
}

function preflightView(check: PreflightCheck | null): PreflightView | null {
  return check
    ? {
        scheduledFor: check.scheduledFor.toISOString(),
        checkedAt: check.checkedAt.toISOString(),
        ok: check.ok,
        message: check.message,
      }
    : null;
}

export interface JobView {
  id: string;
  name: string;
  jarURL: string;
  entryClass: string | null;
  config: ProgramConfig;
  parallelism: number | null;
  enabled: boolean;
  cluster: string;
  admission: AdmissionMode;
  restartPolicy: RestartPolicy;
  /** Null: the service's defaults (SAVEPOINT_KEEP_LAST, SAVEPOINT_MAX_AGE_DAYS). */
  savepointRetention: SavepointRetention | null;
  version: number;
  schedule: ScheduleView | null;
  createdAt: Instant;
  updatedAt: Instant;
}

export interface ScheduleEntryView extends ScheduleView {
  jobId: string;
  jobName: string;
}

export interface ExecutionDefinitionView {
  jarURL: string;
  entryClass: string | null;
  config: ProgramConfig;
  programArgs: string[];
  parallelism: number | null;
  savepointPath: string | null;
  allowNonRestoredState: boolean;
  jobVersion: number;
}

/** The fields of an execution the API shows as the domain holds them. */
type ExecutionAsIs =
  | 'id'
  | 'jobId'
  | 'cluster'
  | 'trigger'
  | 'status'
  | 'flinkState'
  | 'flinkJobId'
  | 'flinkJarId'
  | 'savepointPath'
  | 'savepointLocation'
  | 'errorMessage'
  | 'attempt'
  | 'admission'
  | 'restartOf'
  | 'upgradeId'
  | 'savepointId';

/** What was decided about a failure: as the domain holds it, the instant as a string. */
export type RestartDecisionView =
  | Omit<Extract<RestartDecision, { decision: 'restarted' }>, 'decidedAt'>
  | Omit<Extract<RestartDecision, { decision: 'exhausted' | 'skipped' }>, 'decidedAt'>;

/** Why a QUEUED execution has not gone to Flink yet. */
export interface AdmissionWaitView {
  slotsNeeded: number;
  slotsFree: number;
  since: Instant;
  checks: number;
}

export interface ExecutionView extends Pick<Execution, ExecutionAsIs> {
  /** What a QUEUED execution waits for: "slots", or null when it waits for nothing. */
  waitingFor: 'slots' | null;
  waiting: AdmissionWaitView | null;
  restart: (RestartDecisionView & { decidedAt: Instant }) | null;
  /** A tick's execution: the check run before the tick, if any. */
  preflight: PreflightView | null;
  /** The savepoints it produced (ids, oldest first): its stop's, manual ones, periodic ones. */
  savepoints: string[];
  definition: ExecutionDefinitionView | null;
  scheduledFor: Instant | null;
  createdAt: Instant;
  submittedAt: Instant | null;
  startedAt: Instant | null;
  finishedAt: Instant | null;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function scheduleView(job: Job, nextRuns: Date[]): ScheduleView | null {
  if (!job.schedule) return null;
  return {
    cron: job.schedule.cron,
    timezone: job.schedule.timezone,
    overlap: job.schedule.overlap,
    replace: job.schedule.replace,
    startAt: iso(job.schedule.startAt),
    endAt: iso(job.schedule.endAt),
    nextRuns: job.enabled ? nextRuns.map((d) => d.toISOString()) : [],
    lastRunAt: iso(job.schedule.lastRunAt),
    paused: !job.enabled,
    preflightMinutes: job.schedule.preflightMinutes,
    preflight: preflightView(job.schedule.preflight),
  };
}

/** A job as the API shows it; field names follow the service this replaces (jarURL). */
export function jobView(job: Job, nextRuns: Date[]): JobView {
  return {
    id: job.id,
    name: job.name,
    jarURL: job.jarUrl,
    entryClass: job.entryClass,
    config: job.config,
    parallelism: job.parallelism,
    enabled: job.enabled,
    cluster: job.cluster,
    admission: job.admission,
    restartPolicy: job.restartPolicy,
    savepointRetention: job.savepointRetention,
    /** Goes up with every change; PUT takes it back (If-Match or `version`) to refuse lost updates. */
    version: job.version,
    schedule: scheduleView(job, nextRuns),
    createdAt: job.createdAt.toISOString(),
    updatedAt: job.updatedAt.toISOString(),
  };
}

/** An entry of GET /api/v1/schedules: a scheduled job's schedule, with the job's id and name. */
export function scheduleEntryView(job: Job, nextRuns: Date[]): ScheduleEntryView {
  // Only scheduled jobs are listed, so the schedule is there.
  return { jobId: job.id, jobName: job.name, ...(scheduleView(job, nextRuns) as ScheduleView) };
}

export function executionView(e: Execution, produced: string[] = []): ExecutionView {
  return {
    id: e.id,
    jobId: e.jobId,
    cluster: e.cluster,
    trigger: e.trigger,
    restartOf: e.restartOf,
    upgradeId: e.upgradeId,
    preflight: preflightView(e.preflight),
    restart: e.restartDecision ? { ...e.restartDecision, decidedAt: e.restartDecision.decidedAt.toISOString() } : null,
    status: e.status,
    flinkState: e.flinkState,
    flinkJobId: e.flinkJobId,
    flinkJarId: e.flinkJarId,
    savepointPath: e.savepointPath,
    savepointId: e.savepointId,
    savepointLocation: e.savepointLocation,
    savepoints: produced,
    admission: e.admission,
    waitingFor: e.waiting?.waitingFor ?? null,
    waiting: e.waiting
      ? {
          slotsNeeded: e.waiting.slotsNeeded,
          slotsFree: e.waiting.slotsFree,
          since: e.waiting.since.toISOString(),
          checks: e.waiting.checks,
        }
      : null,
    // What it runs (ran), as copied from the job at start; null when it runs nothing.
    definition: e.definition
      ? {
          jarURL: e.definition.jarUrl,
          entryClass: e.definition.entryClass,
          config: e.definition.config,
          programArgs: programArgsFrom(e.definition.config),
          parallelism: e.parallelism,
          savepointPath: e.savepointPath,
          allowNonRestoredState: e.allowNonRestoredState,
          jobVersion: e.definition.jobVersion,
        }
      : null,
    errorMessage: e.errorMessage,
    attempt: e.attempt,
    scheduledFor: iso(e.scheduledFor),
    createdAt: e.createdAt.toISOString(),
    submittedAt: iso(e.submittedAt),
    startedAt: iso(e.startedAt),
    finishedAt: iso(e.finishedAt),
  };
}

export interface SavepointView {
  id: string;
  jobId: string;
  executionId: string | null;
  cluster: string;
  kind: SavepointKind;
  status: SavepointState;
  location: string | null;
  errorMessage: string | null;
  createdAt: Instant;
  completedAt: Instant | null;
  disposalRequestedAt: Instant | null;
  disposalError: string | null;
  disposedAt: Instant | null;
}

/** A savepoint record: Flink's trigger ids stay inside. */
export function savepointView(s: Savepoint): SavepointView {
  return {
    id: s.id,
    jobId: s.jobId,
    executionId: s.executionId,
    cluster: s.cluster,
    kind: s.kind,
    status: s.status,
    location: s.location,
    errorMessage: s.errorMessage,
    createdAt: s.createdAt.toISOString(),
    completedAt: iso(s.completedAt),
    disposalRequestedAt: iso(s.disposal?.requestedAt ?? null),
    disposalError: s.disposalError,
    disposedAt: iso(s.disposedAt),
  };
}

export interface UpgradeView {
  id: string;
  jobId: string;
  mode: UpgradeMode;
  status: UpgradeStatus;
  step: UpgradeStep;
  /** As the API names the fields (jarURL). */
  changes: { jarURL?: string; entryClass?: string | null; config?: ProgramConfig; parallelism?: number | null };
  allowNonRestoredState: boolean;
  fromExecutionId: string | null;
  toExecutionId: string | null;
  savepointId: string | null;
  savepointLocation: string | null;
  jobVersionBefore: number;
  jobVersionAfter: number | null;
  errorMessage: string | null;
  recovery: string | null;
  steps: { step: string; at: Instant; detail: string }[];
  createdAt: Instant;
  updatedAt: Instant;
  finishedAt: Instant | null;
}

export function upgradeView(u: Upgrade): UpgradeView {
  const { jarUrl, ...rest } = u.changes;
  return {
    id: u.id,
    jobId: u.jobId,
    mode: u.mode,
    status: u.status,
    step: u.step,
    changes: jarUrl === undefined ? rest : { jarURL: jarUrl, ...rest },
    allowNonRestoredState: u.allowNonRestoredState,
    fromExecutionId: u.fromExecutionId,
    toExecutionId: u.toExecutionId,
    savepointId: u.savepointId,
    savepointLocation: u.savepointLocation,
    jobVersionBefore: u.jobVersionBefore,
    jobVersionAfter: u.jobVersionAfter,
    errorMessage: u.errorMessage,
    recovery: u.recovery,
    steps: u.steps.map((s) => ({ step: s.step, at: s.at.toISOString(), detail: s.detail })),
    createdAt: u.createdAt.toISOString(),
    updatedAt: u.updatedAt.toISOString(),
    finishedAt: iso(u.finishedAt),
  };
}

export interface ActionScheduleView {
  id: string;
  jobId: string;
  action: ScheduleAction;
  cron: string;
  timezone: string;
  savepoint: boolean | null;
  drain: boolean | null;
  restoreFrom: 'latest-savepoint' | null;
  startAt: Instant | null;
  endAt: Instant | null;
  lastRunAt: Instant | null;
  nextRuns: Instant[];
  /** What its latest ticks did, newest first. */
  recentTicks: { scheduledFor: Instant; outcome: ActionTickOutcome; detail: string | null }[];
  createdAt: Instant;
}

export function actionScheduleView({ schedule: s, nextRuns, recentTicks }: ActionScheduleDetail): ActionScheduleView {
  const stop = s.action === 'stop';
  return {
    id: s.id,
    jobId: s.jobId,
    action: s.action,
    cron: s.cron,
    timezone: s.timezone,
    // What a stop does, defaults shown; null for the other actions.
    savepoint: stop ? (s.options.savepoint ?? true) : null,
    drain: stop ? (s.options.drain ?? false) : null,
    restoreFrom: s.action === 'start' ? (s.options.restoreFrom ?? null) : null,
    startAt: iso(s.startAt),
    endAt: iso(s.endAt),
    lastRunAt: iso(s.lastRunAt),
    nextRuns: nextRuns.map((d) => d.toISOString()),
    recentTicks: recentTicks.map((t) => ({
      scheduledFor: t.scheduledFor.toISOString(),
      outcome: t.outcome,
      detail: t.detail,
    })),
    createdAt: s.createdAt.toISOString(),
  };
}

/** The ETag of a job: its version, as a strong entity tag. */
export const jobETag = (job: Job) => `"${job.version}"`;

export interface ClusterView {
  name: string;
  url: string;
  /** Only the kind of credentials: they are write-only. */
  auth: { type: 'basic' | 'bearer' } | null;
  savepointDir: string | null;
  createdAt: Instant;
  updatedAt: Instant;
}

/** A cluster as the API shows it: never its credentials, only their type. */
export function clusterView(cluster: Cluster): ClusterView {
  return {
    name: cluster.name,
    url: cluster.url,
    auth: cluster.auth ? { type: cluster.auth.type } : null,
    savepointDir: cluster.savepointDir,
    createdAt: cluster.createdAt.toISOString(),
    updatedAt: cluster.updatedAt.toISOString(),
  };
}

export interface ClusterObservationView {
  reachable: boolean;
  /** When the current reachability began: up since, or down since. */
  since: Instant;
  observedAt: Instant;
  lastError: string | null;
  flinkVersion: string | null;
  taskManagers: number | null;
  slotsTotal: number | null;
  slotsFree: number | null;
  defaultParallelism: number | null;
  slotsObservedAt: Instant | null;
  runningJobs: number | null;
  unmanagedJobs: { flinkJobId: string; name: string; state: string; startTime: Instant | null }[];
  driftedExecutions: Pick<
    ClusterObservation['driftedExecutions'][number],
    'executionId' | 'jobId' | 'status' | 'flinkJobId' | 'flinkState'
  >[];
}

/** A cluster with what the observer last saw of it: null before its first observation. */
export interface ClusterDetailView extends ClusterView {
  observed: ClusterObservationView | null;
}

export function clusterObservationView(o: ClusterObservation): ClusterObservationView {
  const slots = o.slots;
  return {
    reachable: o.reachable,
    since: o.reachableSince.toISOString(),
    observedAt: o.observedAt.toISOString(),
    lastError: o.lastError,
    flinkVersion: slots?.flinkVersion ?? null,
    taskManagers: slots?.taskManagers ?? null,
    slotsTotal: slots?.slotsTotal ?? null,
    slotsFree: slots?.slotsFree ?? null,
    defaultParallelism: slots?.defaultParallelism ?? null,
    slotsObservedAt: iso(slots?.observedAt ?? null),
    runningJobs: o.runningJobs,
    unmanagedJobs: o.unmanagedJobs.map((j) => ({
      flinkJobId: j.flinkJobId,
      name: j.name,
      state: j.state,
      startTime: iso(j.startTime),
    })),
    driftedExecutions: o.driftedExecutions.map((d) => ({
      executionId: d.executionId,
      jobId: d.jobId,
      status: d.status,
      flinkJobId: d.flinkJobId,
      flinkState: d.flinkState,
    })),
  };
}

export function clusterDetailView(cluster: Cluster, observation: ClusterObservation | null): ClusterDetailView {
  return { ...clusterView(cluster), observed: observation ? clusterObservationView(observation) : null };
}

/** A program Flink accepted, as POST /jobs/:id/validate answers it. */
export interface ValidationView {
  valid: true;
  cluster: string;
  /** The Flink jar id that holds the JAR on the cluster: a start reuses it. */
  jarId: string;
  plan: { name: string; operators: number; maxParallelism: number | null };
  /** `parallelism`: null when Flink did not say. */
  operators: { id: string; description: string; parallelism: number | null }[];
}

export function validationView(check: FlinkCheck): ValidationView {
  const { plan } = check;
  return {
    valid: true,
    cluster: check.cluster,
    jarId: check.jarId,
    plan: { name: plan.name, operators: plan.operators.length, maxParallelism: plan.maxParallelism },
    operators: plan.operators.map((o) => ({ id: o.id, description: o.description, parallelism: o.parallelism })),
  };
}

/**
 * A webhook; its secret is never shown, only whether there is one. Its URL may hold a
 * credential too (Slack's do): whole only to `access` that may write, else its host.
 */
export function webhookView(webhook: Webhook, access: 'read' | 'write' = 'write') {
  return {
    id: webhook.id,
    url: access === 'write' ? webhook.url : redactWebhookUrl(webhook.url),
    events: webhook.events,
    jobId: webhook.jobId,
    format: webhook.format,
    enabled: webhook.enabled,
    hasSecret: webhook.hasSecret,
    disabledReason: webhook.disabledReason,
    failingSince: iso(webhook.failingSince),
    createdAt: webhook.createdAt.toISOString(),
    updatedAt: webhook.updatedAt.toISOString(),
  };
}

export function deliveryView(delivery: WebhookDelivery) {
  return {
    id: delivery.id,
    eventId: delivery.eventId,
    eventType: delivery.eventType,
    status: delivery.status,
    attempts: delivery.attempts,
    statusCode: delivery.statusCode,
    durationMs: delivery.durationMs,
    lastError: delivery.lastError,
    createdAt: delivery.createdAt.toISOString(),
    lastAttemptAt: iso(delivery.lastAttemptAt),
    deliveredAt: iso(delivery.deliveredAt),
  };
}

/** Opaque to clients: base64url of the event's (transaction, id). */
export const encodeEventCursor = (event: OrchestratorEvent) =>
  Buffer.from(JSON.stringify([event.cursor.tx, event.cursor.id])).toString('base64url');

/** An event of the feed: what a webhook receives, and where to continue from. */
export function eventView(event: OrchestratorEvent) {
  return { ...eventMessage(event), cursor: encodeEventCursor(event) };
}

export function auditView(record: AuditRecord) {
  return {
    id: record.id,
    at: record.createdAt.toISOString(),
    actor: record.actor,
    action: record.action,
    target: { type: record.targetType, id: record.targetId },
    jobId: record.jobId,
    changes: record.changes,
    requestId: record.requestId,
  };
}
