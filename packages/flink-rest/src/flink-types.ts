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
