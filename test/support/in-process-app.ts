import type { AddressInfo } from 'node:net';
import { CronParserCalendar } from '@flink-orchestrator/cron';
import {
  ExecutionControl,
  JobCatalog,
  ScheduleKeeper,
  systemClock,
  type JobRepository,
} from '@flink-orchestrator/domain';
import { createApp } from '@flink-orchestrator/http-api';
import { createLogger, type Metrics } from '@flink-orchestrator/observability';
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
  const schedules = new ScheduleKeeper(jobs, timer, new CronParserCalendar(), log);
  const app = createApp({
    catalog: new JobCatalog(jobs, schedules),
    executions: new ExecutionControl(jobs, {} as never, {} as never, systemClock, log),
    schedules,
    health: [],
    clock: systemClock,
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
