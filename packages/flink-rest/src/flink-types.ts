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
  jobs?: { jid: string; name?: string; state: string; 'start-time'?: number; 'end-time'?: number }[];
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
