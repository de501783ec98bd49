import type { AddressInfo } from 'node:net';
import { CronParserCalendar } from '@flink-orchestrator/cron';
import {
  CancelUnownedFlinkJob,
  ManageClusters,
  ManageActionSchedules,
  ManageJobs,
  ManageSavepoints,
  RequestUpgrade,
  ManageSchedules,
  QueueSubmission,
  ReadExecutions,
  RequestStop,
  StartExecution,
  ValidateOnFlink,
  type JobRepository,
} from '@flink-orchestrator/domain';
import { createApp } from '@flink-orchestrator/http-api';
import { createLogger, systemClock, type Metrics } from '@flink-orchestrator/observability';
import { client, type Client } from './http';

/**
 * The Koa app on a free port, in this process, over the given job repository (a broken
 * one, to see how failures are answered); no authentication.
 */
export async function appOver(
  jobs: JobRepository,
  metrics?: Metrics,
): Promise<{ http: Client; close: () => Promise<void> }> {
  const log = createLogger({ level: 'silent', name: 'test' });
  const timer = { upsert: async () => {}, remove: async () => {}, list: () => Promise.resolve(new Map()) };
  const clock = systemClock;
  const schedules = new ManageSchedules({ jobs, timer, calendar: new CronParserCalendar(), clock, log });
  const app = createApp({
    jobs: new ManageJobs(jobs, schedules),
    // Only job routes are exercised here: the cluster use case gets no storage.
    clusters: new ManageClusters({} as never),
    observations: {} as never,
    webhooks: {} as never,
    events: {} as never,
    flinkJobs: new CancelUnownedFlinkJob({ clusters: {} as never, executions: {} as never, flink: {} as never }),
    schedules,
    validation: new ValidateOnFlink({
      jobs,
      clusters: {} as never,
      jars: {} as never,
      settings: { dataProcessorUrl: '' },
    }),
    // Only job routes are exercised here: the execution use cases get no storage.
    starts: new StartExecution(jobs, {} as never, new QueueSubmission({} as never, {} as never, log), {} as never),
    savepoints: new ManageSavepoints({} as never),
    upgrades: new RequestUpgrade({} as never),
    actionSchedules: new ManageActionSchedules({} as never),
    stops: new RequestStop({ jobs, executions: {} as never, queue: {} as never, clock, log }),
    history: new ReadExecutions(jobs, {} as never),
    health: [],
    clock,
    log,
    auth: { tokens: null },
    ...(metrics ? { metrics: { metrics, refresh: async () => {} } } : {}),
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    http: client(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, null),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
