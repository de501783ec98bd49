import { createReadStream } from 'node:fs';
import {
  PermanentFailure,
  TransientFailure,
  type CancelOutcome,
  type DisposalStatus,
  type FlinkClusterOverview,
  type FlinkGateway,
  type FlinkJobOverview,
  type FlinkJobState,
  type FlinkSavepointRecord,
  type JobPlan,
  type LocalJar,
  type PlanRequest,
  type RunOutcome,
  type RunRequest,
  type SavepointStatus,
} from '@flink-orchestrator/domain';
import axios, { type AxiosInstance, type AxiosResponse, isAxiosError } from 'axios';
import FormData from 'form-data';
import { errorsOf, isDuplicateSubmission, summarizeFlinkErrors } from './flink-errors';
import type * as Flink from './flink-types';

export interface FlinkClientOptions {
  /** JobManager REST base URL, with or without the `/v1` prefix. */
  baseUrl: string;
  timeoutMs?: number;
  /** `/jars/:id/run` blocks until the job has initialized: give it longer. */
  runTimeoutMs?: number;
  /** Sent with every request: an `Authorization` for a JobManager behind an authenticating proxy. */
  headers?: Record<string, string>;
  /** Called once per request, for metrics. */
  onCall?: (endpoint: string, outcome: 'ok' | 'client_error' | 'server_error' | 'unreachable', seconds: number) => void;
}

type Endpoint = string;

/** Flink REST API client for 1.18 to 2.x: only `programArgsList`, both restore-mode fields. */
export class FlinkRestClient implements FlinkGateway {
  private readonly http: AxiosInstance;

  constructor(private readonly options: FlinkClientOptions) {
    this.http = axios.create({
      baseURL: options.baseUrl.replace(/\/+$/, ''),
      timeout: options.timeoutMs ?? 15_000,
      ...(options.headers ? { headers: options.headers } : {}),
      validateStatus: () => true,
      maxBodyLength: Infinity,
      maxContentLength: 50 * 1024 * 1024,
    });
  }

  async config(): Promise<Flink.ConfigResponse> {
    return (await this.call<Flink.ConfigResponse>('config', { method: 'GET', url: '/config' })).data;
  }

  async listJarIds(): Promise<Set<string>> {
    const res = await this.call<Flink.JarListResponse>('jars_list', { method: 'GET', url: '/jars' });
    this.expect(res, [200], 'list jars');
    return new Set((res.data.files ?? []).map((f) => f.id));
  }

  async uploadJar(jar: LocalJar): Promise<string> {
    const form = new FormData();
    const fileName = jar.fileName.endsWith('.jar') ? jar.fileName : `${jar.fileName}.jar`;
    form.append('jarfile', createReadStream(jar.path), {
      filename: fileName,
      contentType: 'application/x-java-archive',
      knownLength: jar.size,
    });
    const res = await this.call<Flink.JarUploadResponse>('jars_upload', {
      method: 'POST',
      url: '/jars/upload',
      data: form,
      headers: { ...form.getHeaders(), 'Content-Length': String(form.getLengthSync()) },
      timeout: Math.max(this.options.timeoutMs ?? 15_000, 600_000),
      // follow-redirects keeps a copy of the request body to replay it: with redirects off,
      // the file streams from disk to the socket and never sits in memory.
      maxRedirects: 0,
    });
    this.expect(res, [200], 'upload the JAR');
    const jarId = res.data.filename?.split('/').pop();
    if (!jarId) throw new TransientFailure('Flink accepted the JAR upload but named no file.');
    return jarId;
  }

  async deleteJar(jarId: string): Promise<void> {
    const res = await this.call('jars_delete', { method: 'DELETE', url: `/jars/${encodeURIComponent(jarId)}` });
    if (res.status === 400 && /does not exist/.test(errorsOf(res.data).join(' '))) return;
    this.expect(res, [200], 'delete the JAR');
  }

  async runJar(request: RunRequest): Promise<RunOutcome> {
    const body: Flink.JarRunRequest = {
      programArgsList: request.programArgs,
      jobId: request.jobId,
      allowNonRestoredState: request.allowNonRestoredState,
      // Older versions ignore claimMode, newer ones prefer it.
      restoreMode: 'NO_CLAIM',
      claimMode: 'NO_CLAIM',
      ...(request.entryClass ? { entryClass: request.entryClass } : {}),
      ...(request.parallelism ? { parallelism: request.parallelism } : {}),
      ...(request.savepointPath ? { savepointPath: request.savepointPath } : {}),
    };
    const res = await this.call<Flink.JarRunResponse>('jars_run', {
      method: 'POST',
      url: `/jars/${encodeURIComponent(request.jarId)}/run`,
      data: body,
      timeout: this.options.runTimeoutMs ?? 180_000,
    });
    if (res.status === 200) return 'submitted';
    const errors = errorsOf(res.data);
    if (res.status === 400 && isDuplicateSubmission(errors)) return 'duplicate';
    const text = summarizeFlinkErrors(errors);
    // A jar that vanished (JobManager restart) is re-uploaded by the retry.
    if (/Jar file .* does not exist|does not exist in/.test(errors.join('\n'))) {
      throw new TransientFailure(`Flink no longer has the uploaded JAR: ${text}`);
    }
    if (
      res.status >= 500 &&
      !/ProgramInvocationException|ClassNotFoundException|Could not execute/.test(errors.join('\n'))
    ) {
      throw new TransientFailure(`Flink could not run the job (HTTP ${res.status}): ${text}`);
    }
    throw new PermanentFailure(text);
  }

  async planJar(request: PlanRequest): Promise<JobPlan> {
    const body: Flink.JarPlanRequest = {
      programArgsList: request.programArgs,
      ...(request.entryClass ? { entryClass: request.entryClass } : {}),
      ...(request.parallelism ? { parallelism: request.parallelism } : {}),
    };
    // Flink runs the program's main() to build the plan: give it as long as a run.
    const res = await this.call<Flink.JobPlanResponse>('jars_plan', {
      method: 'POST',
      url: `/jars/${encodeURIComponent(request.jarId)}/plan`,
      data: body,
      timeout: this.options.runTimeoutMs ?? 180_000,
    });
    if (res.status === 200) return planOf(res.data);
    const errors = errorsOf(res.data);
    const text = summarizeFlinkErrors(errors);
    if (/Jar file .* does not exist|does not exist in/.test(errors.join('\n'))) {
      throw new TransientFailure(`Flink no longer has the uploaded JAR: ${text}`);
    }
    if (
      (res.status >= 500 || res.status === 408 || res.status === 429) &&
      !/ProgramInvocationException|ClassNotFoundException|Could not execute/.test(errors.join('\n'))
    ) {
      throw new TransientFailure(`Flink could not plan the job (HTTP ${res.status}): ${text}`);
    }
    throw new PermanentFailure(text);
  }

  async getJob(jobId: string): Promise<FlinkJobState | null> {
    const res = await this.call<Flink.JobDetailsResponse>('jobs_get', { method: 'GET', url: `/jobs/${jobId}` });
    if (res.status === 404) return null;
    this.expect(res, [200], 'read the job');
    return { state: res.data.state };
  }

  async jobsOverview(): Promise<FlinkJobOverview[]> {
    const res = await this.call<Flink.JobsOverviewResponse>('jobs_overview', { method: 'GET', url: '/jobs/overview' });
    this.expect(res, [200], 'list the jobs');
    return (res.data.jobs ?? []).map((job) => {
      const start = job['start-time'];
      const tasks = job.tasks;
      return {
        jobId: job.jid,
        name: job.name ?? '',
        state: job.state,
        startTime: typeof start === 'number' && start >= 0 ? start : null,
        // An INITIALIZING job lists no tasks yet: RUNNING first, then every task counted.
        tasksRunning: tasks
          ? job.state === 'RUNNING' && (tasks.running ?? 0) + (tasks.finished ?? 0) >= (tasks.total ?? 0)
          : null,
      };
    });
  }

  async jobStatus(jobId: string): Promise<FlinkJobState | null> {
    const res = await this.call<Flink.JobStatusResponse>('jobs_status', {
      method: 'GET',
      url: `/jobs/${jobId}/status`,
    });
    if (res.status === 404) return null;
    // The Dispatcher's FlinkJobNotFoundException is not mapped to 404 by this handler: checked
    // on 1.20.5 and 2.3.0, an unknown job answers 500 "Internal server error." naming it.
    if (res.status === 500 && errorsOf(res.data).some((e) => e.includes('FlinkJobNotFoundException'))) return null;
    this.expect(res, [200], 'read the job status');
    return { state: res.data.status };
  }

  async clusterOverview(): Promise<FlinkClusterOverview> {
    const res = await this.call<Flink.ClusterOverviewResponse>('overview', { method: 'GET', url: '/overview' });
    this.expect(res, [200], 'read the cluster overview');
    const d = res.data;
    const count = (n: unknown) => (typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : 0);
    return {
      flinkVersion: d['flink-version'] ?? null,
      taskManagers: count(d.taskmanagers),
      slotsTotal: count(d['slots-total']),
      slotsFree: count(d['slots-available']),
      runningJobs: count(d['jobs-running']),
    };
  }

  async defaultParallelism(): Promise<number | null> {
    const res = await this.call<Flink.JobManagerConfigResponse>('jobmanager_config', {
      method: 'GET',
      url: '/jobmanager/config',
    });
    this.expect(res, [200], 'read the JobManager configuration');
    const value = (Array.isArray(res.data) ? res.data : []).find((e) => e.key === 'parallelism.default')?.value;
    const parallelism = value !== undefined && /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
    return Number.isSafeInteger(parallelism) && parallelism > 0 ? parallelism : null;
  }

  async failureCause(jobId: string): Promise<string | null> {
    const res = await this.call<Flink.JobExceptionsResponse>('jobs_exceptions', {
      method: 'GET',
      url: `/jobs/${jobId}/exceptions`,
      params: { maxExceptions: 1 },
    });
    this.expect(res, [200], 'read the job exceptions');
    const entry = res.data.exceptionHistory?.entries?.[0];
    const trace = entry?.stacktrace ?? res.data['root-exception'];
    if (trace) return summarizeFlinkErrors([trace]);
    return entry?.exceptionName ?? null;
  }

  async latestCheckpoint(jobId: string): Promise<string | null> {
    const res = await this.call<Flink.CheckpointingStatisticsResponse>('jobs_checkpoints', {
      method: 'GET',
      url: `/jobs/${jobId}/checkpoints`,
    });
    if (res.status === 404) return null;
    this.expect(res, [200], 'read the job checkpoints');
    // A checkpoint that was not externalized has the "<checkpoint-not-externalized>" marker
    // as its path (Flink's default when retention is off): nothing to restore from.
    const path = res.data.latest?.completed?.external_path;
    return path && !path.startsWith('<') ? path : null;
  }

  async latestSavepoint(jobId: string): Promise<FlinkSavepointRecord | null> {
    const res = await this.call<Flink.CheckpointingStatisticsResponse>('jobs_checkpoints', {
      method: 'GET',
      url: `/jobs/${jobId}/checkpoints`,
    });
    if (res.status === 404) return null;
    this.expect(res, [200], 'read the job checkpoints');
    const savepoint = res.data.latest?.savepoint;
    const location = savepoint?.external_path;
    if (!location || location.startsWith('<') || savepoint.trigger_timestamp === undefined) return null;
    return { location, triggeredAt: new Date(savepoint.trigger_timestamp) };
  }

  async cancel(jobId: string): Promise<CancelOutcome> {
    const res = await this.call('jobs_cancel', { method: 'PATCH', url: `/jobs/${jobId}`, params: { mode: 'cancel' } });
    if (res.status === 202) return 'accepted';
    if (res.status === 404) return 'not_found';
    if (res.status === 409) return 'already_terminal';
    this.expect(res, [202], 'cancel the job');
    return 'accepted';
  }

  async stopWithSavepoint(
    jobId: string,
    options: { targetDirectory: string | null; drain: boolean; triggerId: string },
  ): Promise<string> {
    const res = await this.call<Flink.TriggerResponse>('jobs_stop', {
      method: 'POST',
      url: `/jobs/${jobId}/stop`,
      data: {
        drain: options.drain,
        triggerId: options.triggerId,
        ...(options.targetDirectory ? { targetDirectory: options.targetDirectory } : {}),
      },
    });
    this.expect(res, [202], 'stop the job with a savepoint');
    return res.data['request-id'];
  }

  async triggerSavepoint(
    jobId: string,
    options: { targetDirectory: string | null; triggerId: string },
  ): Promise<string> {
    // This body mixes kebab-case and camelCase, as Flink's SavepointTriggerRequestBody does.
    const res = await this.call<Flink.TriggerResponse>('jobs_savepoint', {
      method: 'POST',
      url: `/jobs/${jobId}/savepoints`,
      data: {
        'cancel-job': false,
        triggerId: options.triggerId,
        ...(options.targetDirectory ? { 'target-directory': options.targetDirectory } : {}),
      },
    });
    this.expect(res, [202], 'trigger a savepoint');
    return res.data['request-id'];
  }

  async disposeSavepoint(location: string): Promise<string> {
    const res = await this.call<Flink.TriggerResponse>('savepoint_disposal', {
      method: 'POST',
      url: '/savepoint-disposal',
      data: { 'savepoint-path': location },
    });
    this.expect(res, [200, 202], 'dispose of the savepoint');
    return res.data['request-id'];
  }

  async disposalStatus(triggerId: string): Promise<DisposalStatus> {
    const res = await this.call<Flink.SavepointStatusResponse>('savepoint_disposal_status', {
      method: 'GET',
      url: `/savepoint-disposal/${triggerId}`,
    });
    if (res.status === 404) return { status: 'unknown' };
    this.expect(res, [200], 'read the savepoint disposal status');
    if (res.data.status.id !== 'COMPLETED') return { status: 'IN_PROGRESS' };
    const cause = res.data.operation?.['failure-cause'];
    if (!cause) return { status: 'COMPLETED' };
    // Flink resolves the path before deleting anything: a path already gone fails with
    // FileNotFoundException ("Cannot find checkpoint or savepoint file/directory").
    if (
      /FileNotFoundException|Cannot find checkpoint or savepoint/.test(
        `${cause.class ?? ''} ${cause['stack-trace'] ?? ''}`,
      )
    )
      return { status: 'absent' };
    return {
      status: 'FAILED',
      reason: summarizeFlinkErrors([cause['stack-trace'] ?? cause.class ?? 'unknown failure']),
    };
  }

  async savepointStatus(jobId: string, triggerId: string): Promise<SavepointStatus> {
    const res = await this.call<Flink.SavepointStatusResponse>('jobs_savepoint_status', {
      method: 'GET',
      url: `/jobs/${jobId}/savepoints/${triggerId}`,
    });
    // "There is no savepoint operation with triggerId=…": expired from Flink's operation cache
    // (`rest.async.operation-store-duration`), or lost with a JobManager restart.
    if (res.status === 404) return { status: 'unknown' };
    this.expect(res, [200], 'read the savepoint status');
    if (res.data.status.id !== 'COMPLETED') return { status: 'IN_PROGRESS' };
    const operation = res.data.operation ?? {};
    if (operation.location) return { status: 'COMPLETED', location: operation.location };
    const cause = operation['failure-cause'];
    return {
      status: 'FAILED',
      reason: summarizeFlinkErrors([cause?.['stack-trace'] ?? cause?.class ?? 'unknown failure']),
    };
  }

  /** Any HTTP answer comes back; only "could not talk to Flink" throws (transient). */
  private async call<T = unknown>(
    endpoint: Endpoint,
    config: Parameters<AxiosInstance['request']>[0],
  ): Promise<AxiosResponse<T>> {
    const started = process.hrtime.bigint();
    const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;
    try {
      const res = await this.http.request<T>(config);
      const outcome = res.status >= 500 ? 'server_error' : res.status >= 400 ? 'client_error' : 'ok';
      this.options.onCall?.(endpoint, outcome, elapsed());
      return res;
    } catch (error) {
      this.options.onCall?.(endpoint, 'unreachable', elapsed());
      const code = isAxiosError(error) ? (error.code ?? error.message) : String(error);
      throw new TransientFailure(`Flink at ${this.options.baseUrl} is unreachable (${code}).`, { cause: error });
    }
  }

  /** 5xx (503 during leader election) may pass; 4xx will not. */
  private expect(res: AxiosResponse, ok: number[], action: string): void {
    if (ok.includes(res.status)) return;
    const text = summarizeFlinkErrors(errorsOf(res.data));
    const message = `Flink could not ${action} (HTTP ${res.status}): ${text}`;
    if (res.status >= 500 || res.status === 408 || res.status === 429) throw new TransientFailure(message);
    throw new PermanentFailure(message);
  }
}

/** The JobGraph's vertices (operator chains), in Flink's order; see docs/flink-rest.md. */
function planOf(data: Flink.JobPlanResponse): JobPlan {
  const plan = data.plan ?? {};
  const max = plan.maxParallelism;
  return {
    name: plan.name ?? '',
    operators: (plan.nodes ?? []).map((node) => ({
      id: node.id,
      description: node.description ?? node.operator ?? '',
      parallelism: typeof node.parallelism === 'number' ? node.parallelism : -1,
    })),
    maxParallelism: typeof max === 'number' && Number.isSafeInteger(max) && max > 0 ? max : null,
  };
}
