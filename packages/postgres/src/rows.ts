import {
  replaceModeOf,
  type AdmissionMode,
  type AdmissionWait,
  type Execution,
  type ExecutionDefinition,
  type ExecutionStatus,
  type ExecutionTrigger,
  type Job,
  type OverlapPolicy,
  type ProgramConfig,
  type ReplaceMode,
  type PreflightCheck,
  type RestartDecision,
  type RestartPolicy,
  type SavepointRetention,
  restartPolicyOf,
} from '@flink-orchestrator/domain';

export interface JobRow {
  id: string;
  name: string;
  jar_url: string;
  entry_class: string | null;
  config: ProgramConfig;
  parallelism: number | null;
  enabled: boolean;
  cluster: string;
  admission: AdmissionMode;
  restart_policy: Partial<RestartPolicy> | null;
  savepoint_retention: SavepointRetention | null;
  schedule_cron: string | null;
  schedule_timezone: string | null;
  schedule_overlap: string | null;
  schedule_replace: string | null;
  schedule_start_at: Date | null;
  schedule_end_at: Date | null;
  schedule_last_run_at: Date | null;
  schedule_preflight_minutes: number | null;
  schedule_preflight: PreflightJson | null;
  version: number;
  created_at: Date;
  updated_at: Date;
}

/** A PreflightCheck as stored (jsonb): its instants as ISO 8601 strings. */
export interface PreflightJson {
  scheduledFor: string;
  checkedAt: string;
  ok: boolean;
  message: string | null;
}

export function toPreflight(json: PreflightJson | null): PreflightCheck | null {
  return json ? { ...json, scheduledFor: new Date(json.scheduledFor), checkedAt: new Date(json.checkedAt) } : null;
}

export function toJob(row: JobRow): Job {
  const overlap = (row.schedule_overlap ?? 'skip') as OverlapPolicy;
  return {
    id: row.id,
    name: row.name,
    jarUrl: row.jar_url,
    entryClass: row.entry_class,
    config: row.config,
    parallelism: row.parallelism,
    enabled: row.enabled,
    cluster: row.cluster,
    admission: row.admission,
    restartPolicy: restartPolicyOf(row.restart_policy),
    savepointRetention: row.savepoint_retention,
    schedule: row.schedule_cron
      ? {
          cron: row.schedule_cron,
          timezone: row.schedule_timezone ?? 'UTC',
          overlap,
          replace: replaceModeOf({ overlap, replace: row.schedule_replace as ReplaceMode | null }),
          startAt: row.schedule_start_at,
          endAt: row.schedule_end_at,
          lastRunAt: row.schedule_last_run_at,
          preflightMinutes: row.schedule_preflight_minutes,
          preflight: toPreflight(row.schedule_preflight),
        }
      : null,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** `job_executions.waiting` as stored: the wait, its `since` an ISO 8601 string. */
export interface WaitingJson {
  waitingFor: AdmissionWait['waitingFor'];
  slotsNeeded: number;
  slotsFree: number;
  since: string;
  checks: number;
}

/** `job_executions.restart_decision` as stored: `decidedAt` an ISO 8601 string. */
export type RestartDecisionJson = Omit<RestartDecision, 'decidedAt'> & { decidedAt: string };

export function toRestartDecision(json: RestartDecisionJson | null): RestartDecision | null {
  return json ? ({ ...json, decidedAt: new Date(json.decidedAt) } as RestartDecision) : null;
}

export interface ExecutionRow {
  id: string;
  job_id: string;
  cluster: string;
  trigger: string;
  status: string;
  flink_state: string | null;
  flink_job_id: string | null;
  flink_jar_id: string | null;
  jar_sha256: string | null;
  jar_url: string | null;
  entry_class: string | null;
  config: ProgramConfig | null;
  job_version: number | null;
  parallelism: number | null;
  savepoint_path: string | null;
  savepoint_id: string | null;
  allow_non_restored_state: boolean;
  admission: AdmissionMode;
  waiting: WaitingJson | null;
  savepoint_location: string | null;
  stop_savepoint: boolean | null;
  stop_drain: boolean | null;
  stop_requested_at: Date | null;
  error_message: string | null;
  attempt: number;
  scheduled_for: Date | null;
  restart_of: string | null;
  upgrade_id: string | null;
  not_before: Date | null;
  restart_decision: RestartDecisionJson | null;
  preflight: PreflightJson | null;
  created_at: Date;
  submitting_at: Date | null;
  run_requested_at: Date | null;
  submitted_at: Date | null;
  started_at: Date | null;
  finished_at: Date | null;
  updated_at: Date;
}

export function toExecution(row: ExecutionRow): Execution {
  return {
    id: row.id,
    jobId: row.job_id,
    cluster: row.cluster,
    trigger: row.trigger as ExecutionTrigger,
    status: row.status as ExecutionStatus,
    flinkState: row.flink_state,
    flinkJobId: row.flink_job_id,
    flinkJarId: row.flink_jar_id,
    jarSha256: row.jar_sha256,
    // jar_url is set with the others, or not at all.
    definition:
      row.jar_url !== null
        ? {
            jarUrl: row.jar_url,
            entryClass: row.entry_class,
            config: row.config ?? {},
            jobVersion: row.job_version ?? 0,
          }
        : null,
    parallelism: row.parallelism,
    savepointPath: row.savepoint_path,
    savepointId: row.savepoint_id,
    allowNonRestoredState: row.allow_non_restored_state,
    admission: row.admission,
    waiting: row.waiting
      ? {
          waitingFor: row.waiting.waitingFor,
          slotsNeeded: row.waiting.slotsNeeded,
          slotsFree: row.waiting.slotsFree,
          since: new Date(row.waiting.since),
          checks: row.waiting.checks,
        }
      : null,
    savepointLocation: row.savepoint_location,
    stopRequest: row.stop_requested_at
      ? { savepoint: row.stop_savepoint ?? false, drain: row.stop_drain ?? false, requestedAt: row.stop_requested_at }
      : null,
    errorMessage: row.error_message,
    attempt: row.attempt,
    scheduledFor: row.scheduled_for,
    restartOf: row.restart_of,
    upgradeId: row.upgrade_id,
    notBefore: row.not_before,
    restartDecision: toRestartDecision(row.restart_decision),
    preflight: toPreflight(row.preflight),
    createdAt: row.created_at,
    submittingAt: row.submitting_at,
    runRequestedAt: row.run_requested_at,
    submittedAt: row.submitted_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    updatedAt: row.updated_at,
  };
}

const PATCH_COLUMNS = {
  flinkState: 'flink_state',
  flinkJobId: 'flink_job_id',
  flinkJarId: 'flink_jar_id',
  jarSha256: 'jar_sha256',
  savepointLocation: 'savepoint_location',
  errorMessage: 'error_message',
  attempt: 'attempt',
  submittingAt: 'submitting_at',
  runRequestedAt: 'run_requested_at',
  submittedAt: 'submitted_at',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
} as const;

export function patchColumns(patch: Record<string, unknown>): Record<string, unknown> {
  const columns: Record<string, unknown> = {};
  for (const [key, column] of Object.entries(PATCH_COLUMNS)) {
    if (patch[key] !== undefined) columns[column] = patch[key];
  }
  if (patch.definition !== undefined) {
    const definition = patch.definition as ExecutionDefinition;
    columns.jar_url = definition.jarUrl;
    columns.entry_class = definition.entryClass;
    columns.config = JSON.stringify(definition.config);
    columns.job_version = definition.jobVersion;
  }
  if (patch.waiting !== undefined) {
    const wait = patch.waiting as AdmissionWait | null;
    columns.waiting = wait === null ? null : JSON.stringify(toWaitingJson(wait));
  }
  if (patch.stopRequest !== undefined) {
    const stop = patch.stopRequest as { savepoint: boolean; drain: boolean; requestedAt: Date } | null;
    columns.stop_savepoint = stop?.savepoint ?? null;
    columns.stop_drain = stop?.drain ?? null;
    columns.stop_requested_at = stop?.requestedAt ?? null;
  }
  return columns;
}

function toWaitingJson(wait: AdmissionWait): WaitingJson {
  return {
    waitingFor: wait.waitingFor,
    slotsNeeded: wait.slotsNeeded,
    slotsFree: wait.slotsFree,
    since: wait.since.toISOString(),
    checks: wait.checks,
  };
}
