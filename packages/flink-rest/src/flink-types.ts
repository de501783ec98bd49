/** The few Flink REST bodies we use, typed by hand (the generated OpenAPI is wrong in places). */

export interface ConfigResponse {
  'flink-version': string;
  features?: { 'web-submit'?: boolean };
}

export interface JarListResponse {
  address?: string;
  files?: { id: string; name: string; uploaded: number }[];
}

export interface JarUploadResponse {
  filename?: string;
  status?: string;
}

export interface JarRunRequest {
  entryClass?: string;
  programArgsList: string[];
  parallelism?: number;
  jobId: string;
  savepointPath?: string;
  allowNonRestoredState: boolean;
  restoreMode: 'CLAIM' | 'NO_CLAIM';
  claimMode: 'CLAIM' | 'NO_CLAIM';
}

/** POST /jars/:jarid/plan (JarPlanRequestBody): the run body without jobId, savepoint and restore fields. */
export interface JarPlanRequest {
  entryClass?: string;
  programArgsList: string[];
  parallelism?: number;
}

/**
 * POST /jars/:jarid/plan (JobPlanInfo): the JobGraph as Flink's JSON plan generator writes
 * it. The spec types `plan` as raw JSON up to 2.0 and as `Plan` from 2.1; the wire is the same.
 */
export interface JobPlanResponse {
  plan?: {
    jid?: string;
    name?: string;
    type?: string;
    /** Not written by the plan generator of 1.20 or 2.x; read if a version adds it. */
    maxParallelism?: number;
    nodes?: {
      id: string;
      parallelism?: number;
      operator?: string;
      operator_strategy?: string;
      description?: string;
      inputs?: { num?: number; id?: string; ship_strategy?: string; exchange?: string }[];
      optimizer_properties?: unknown;
    }[];
  };
}

export interface JarRunResponse {
  jobid: string;
  applicationId?: string;
}

export interface JobDetailsResponse {
  jid: string;
  name: string;
  state: string;
}

/** GET /jobs/overview (MultipleJobsDetails). Newer versions add fields; only these are read. */
export interface JobsOverviewResponse {
  jobs?: {
    jid: string;
    name?: string;
    state: string;
    'start-time'?: number;
    'end-time'?: number;
    tasks?: { total?: number; running?: number; finished?: number };
  }[];
}

/** GET /jobs/:jobid/status (JobStatusInfo). */
export interface JobStatusResponse {
  status: string;
}

/** GET /overview (ClusterOverviewWithVersion); the blocked-slot fields are left out when zero. */
export interface ClusterOverviewResponse {
  taskmanagers: number;
  'slots-total': number;
  'slots-available': number;
  'slots-free-and-blocked'?: number;
  'taskmanagers-blocked'?: number;
  'jobs-running': number;
  'jobs-finished'?: number;
  'jobs-cancelled'?: number;
  'jobs-failed'?: number;
  'flink-version'?: string;
  'flink-commit'?: string;
}

/** GET /jobmanager/config (ClusterConfigurationInfo): every effective setting as a string. */
export type JobManagerConfigResponse = { key: string; value: string }[];

export interface JobExceptionsResponse {
  exceptionHistory?: { entries?: { exceptionName?: string; stacktrace?: string }[] };
  /** 1.x only; removed in 2.0. */
  'root-exception'?: string;
}

/** GET /jobs/:jobid/checkpoints (CheckpointingStatistics), the part read. */
export interface CheckpointingStatisticsResponse {
  latest?: {
    completed?: { id?: number; external_path?: string | null; is_savepoint?: boolean } | null;
    restored?: { id?: number; external_path?: string | null; is_savepoint?: boolean } | null;
    savepoint?: { id?: number; external_path?: string | null; trigger_timestamp?: number } | null;
  } | null;
}

export interface TriggerResponse {
  'request-id': string;
}

export interface SavepointStatusResponse {
  status: { id: 'IN_PROGRESS' | 'COMPLETED' };
  operation?: {
    location?: string;
    'failure-cause'?: { class?: string; 'stack-trace'?: string };
  };
}
