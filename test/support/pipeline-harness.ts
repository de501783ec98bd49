import { randomUUID } from 'node:crypto';
import type { RunningApi } from '@flink-orchestrator/api';
import { buildTestJar, FlinkTestDouble, type FlinkTestDoubleOptions } from '@flink-orchestrator/flink-test-double';
import { expect } from 'chai';
import { startApi } from './api-process';
import { DataProcessor } from './data-processor';
import { client, type Client } from './http';
import { databaseUrl } from './test-env';
import { GiveUp, waitFor } from './wait';
import { runningServices, startWorkers, stopAll, type ServiceProcess } from './worker-processes';

export const TERMINAL = ['FINISHED', 'FAILED', 'CANCELLED', 'STOPPED', 'LOST', 'SKIPPED', 'MISSED'];

/**
 * The product as deployed, for tests: the API (in this process), worker processes, the
 * Flink test double and a data-processor serving JARs. Real PostgreSQL and Redis.
 */
export class PipelineHarness {
  api!: RunningApi;
  http!: Client;
  flink: FlinkTestDouble;
  data = new DataProcessor();
  workers: ServiceProcess[] = [];

  constructor(
    private readonly options: {
      workers?: number;
      flink?: FlinkTestDoubleOptions;
      workerEnv?: Record<string, string>;
      apiEnv?: Record<string, string>;
    } = {},
  ) {
    this.flink = new FlinkTestDouble({ ...options.flink });
  }

  /** The database the API and the workers use (a test may point them at its own). */
  get databaseUrl(): string {
    return this.options.apiEnv?.DATABASE_URL ?? databaseUrl();
  }

  async start(): Promise<this> {
    // A process an earlier test left running would consume this harness's queues and outbox.
    const leaked = runningServices();
    if (leaked.length > 0) throw new Error(`processes left running by an earlier test: ${leaked.join(', ')}`);
    await this.flink.start();
    await this.data.start();
    // The API sets the `default` cluster from FLINK_JOBMANAGER_URL at start, as the workers do.
    this.api = await startApi({
      RETRY_BACKOFF_MS: '200',
      FLINK_JOBMANAGER_URL: this.flink.url,
      ...this.options.apiEnv,
    });
    this.http = client(this.api.url);
    this.workers = await this.addWorkers(this.options.workers ?? 2);
    return this;
  }

  addWorkers(count: number, label = `worker-${randomUUID().slice(0, 4)}`): Promise<ServiceProcess[]> {
    return startWorkers(
      count,
      {
        flinkUrl: this.flink.url,
        dataProcessorUrl: this.data.url,
        env: { RETRY_BACKOFF_MS: '200', ...this.options.workerEnv },
      },
      label,
    );
  }

  async stop(): Promise<void> {
    await stopAll(this.workers);
    await this.api?.close();
    await this.flink.stop();
    await this.data.stop();
  }

  /** A job whose JAR the data-processor serves; the entry class picks the double's behaviour. */
  async createJob(
    entryClass: string,
    overrides: Record<string, unknown> = {},
    jar?: { path: string; bytes: Buffer; etag?: string },
  ): Promise<any> {
    const file = jar ?? { path: `/jars/${randomUUID().slice(0, 8)}.jar`, bytes: buildTestJar(entryClass) };
    const jarURL = this.data.serveJar(file.path, file.bytes, file.etag ? { etag: file.etag } : {});
    const res = await this.http.post('/api/v1/jobs', {
      name: `job-${randomUUID().slice(0, 8)}`,
      jarURL,
      entryClass,
      ...overrides,
    });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body;
  }

  async start202(jobId: string, body?: unknown): Promise<any> {
    const res = await this.http.post(`/api/v1/jobs/${jobId}/start`, body);
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    return res.body;
  }

  execution(id: string): Promise<any> {
    return this.http.get(`/api/v1/executions/${id}`).then((r) => r.body);
  }

  /** Waits until the execution reaches `status`; fails early if it ends in another one. */
  async waitForStatus(id: string, status: string, timeoutMs = 30_000): Promise<any> {
    return waitFor(
      `execution ${id} to be ${status}`,
      async () => {
        const e = await this.execution(id);
        if (e.status === status) return e;
        if (TERMINAL.includes(e.status))
          throw new GiveUp(`execution ${id} ended ${e.status} (${e.errorMessage}), expected ${status}`);
        return undefined;
      },
      timeoutMs,
    );
  }
}
