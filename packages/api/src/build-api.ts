import type { Server } from 'node:http';
import { anyOf, basicAuth, boardMiddleware, writeToken } from './board';
import type { Config } from '@flink-orchestrator/config';
import { CronParserCalendar } from '@flink-orchestrator/cron';
import {
  CancelUnownedFlinkJob,
  DEFAULT_CLUSTER,
  EnsureJarOnFlink,
  EXECUTION_STATUSES,
  failureText,
  ManageClusters,
  ManageActionSchedules,
  ManageJobs,
  PlanPreflights,
  ManageSavepoints,
  RequestUpgrade,
  ManageSchedules,
  ManageWebhooks,
  QueueSubmission,
  ReadExecutions,
  RequestStop,
  StartExecution,
  StopWindows,
  ValidateOnFlink,
  WebhookUrlNotAllowed,
} from '@flink-orchestrator/domain';
import { createApp, TokenAuthority } from '@flink-orchestrator/http-api';
import { ClusterGateways, FlinkRestClient } from '@flink-orchestrator/flink-rest';
import { HttpJarSource, JarUrlPolicy } from '@flink-orchestrator/jar-fetcher';
import { WebhookUrlPolicy } from '@flink-orchestrator/outbound-http';
import { Metrics, ReachabilityLog, systemClock, type Logger } from '@flink-orchestrator/observability';
import { openStore, pingPostgres } from '@flink-orchestrator/postgres';
import {
  BullActionTimer,
  BullDeliveryQueue,
  BullEventBus,
  BullScheduleTimer,
  BullWorkQueue,
  pingRedis,
  redisConnection,
} from '@flink-orchestrator/queue-bullmq';

/** Flink's `GET /config`, at most once per few seconds however often /health is polled. */
function flinkProbe(url: string, log: Logger): () => Promise<void> {
  const flink = new FlinkRestClient({ baseUrl: url, timeoutMs: 1500 });
  const reachability = new ReachabilityLog(log, 'flink', url);
  let last: { at: number; result: Promise<void> } | null = null;
  return () => {
    if (last && Date.now() - last.at < 5000) return last.result;
    const result = flink.config().then(
      () => reachability.observe(true),
      (error: unknown) => {
        reachability.observe(false, failureText(error));
        throw error;
      },
    );
    result.catch(() => undefined); // the cached promise may be read by nobody
    last = { at: Date.now(), result };
    return result;
  };
}

/** The guard's static check at creation (scheme, host); addresses are checked at each delivery. */
function webhookUrlCheck(allowedHosts: string[]): (url: string) => void {
  const policy = new WebhookUrlPolicy(allowedHosts);
  return (url) => {
    try {
      policy.checkUrl(new URL(url));
    } catch (error) {
      throw new WebhookUrlNotAllowed(failureText(error));
    }
  };
}

export interface RunningApi {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/** Wires the API process: PostgreSQL and BullMQ adapters behind the use cases, Koa in front. */
export async function buildApi(config: Config, log: Logger): Promise<RunningApi> {
  if (config.apiTokens.length === 0 && !config.authDisabled) {
    throw new Error(
      'No API token configured: set API_TOKENS (name=token,...), or AUTH_DISABLED=true for local use only.',
    );
  }
  if (config.authDisabled)
    log.warn({}, 'AUTHENTICATION IS DISABLED (AUTH_DISABLED=true): anyone who reaches this port can change jobs');
  const tokens = config.apiTokens.length ? new TokenAuthority(config.apiTokens) : null;
  const metrics = new Metrics('api');
  const {
    db,
    jobs,
    executions,
    clusters,
    observations,
    jarRegistry,
    savepoints,
    upgrades,
    actionSchedules,
    events,
    webhooks,
    audit,
  } = await openStore(
    config.databaseUrl,
    {
      migrate: config.migrateOnStart,
      createDatabase: config.createDatabase,
      onExecutionEnded: (status) => metrics.executionsEnded.inc({ status }),
    },
    log,
  );
  const manageClusters = new ManageClusters(clusters);
  // FLINK_JOBMANAGER_URL is the `default` cluster (one statement: replicas starting together
  // agree). The API starts without PostgreSQL (its /health says so), so it keeps trying.
  let ensureRetry: NodeJS.Timeout | null = null;
  const ensureDefaultCluster = async (): Promise<void> => {
    try {
      await manageClusters.ensure(DEFAULT_CLUSTER, config.flinkJobManagerUrl);
      ensureRetry = null;
    } catch (error) {
      log.warn({ reason: failureText(error) }, 'the default cluster could not be recorded yet; trying again in 5 s');
      ensureRetry = setTimeout(() => void ensureDefaultCluster(), 5000);
      ensureRetry.unref();
    }
  };
  await ensureDefaultCluster();
  const redis = redisConnection(config.redisUrl, 'producer', config.redisClusterNodes ?? undefined);
  const queue = new BullWorkQueue(redis, config.queuePrefix, {
    attempts: config.retryAttempts,
    backoffMs: config.retryBackoffMs,
  });
  const timer = new BullScheduleTimer(redis, config.queuePrefix);
  // The workers' event queues, here for the board and the queue gauges only.
  const eventQueues = [new BullEventBus(redis, config.queuePrefix), new BullDeliveryQueue(redis, config.queuePrefix)];
  const queues = [queue.queue, timer.queue, ...eventQueues.map((q) => q.queue)];
  const clock = systemClock;
  const calendar = new CronParserCalendar();
  const schedules = new ManageSchedules({
    jobs,
    timer,
    calendar,
    clock,
    log,
    preflights: new PlanPreflights({ queue, calendar, clock }),
  });
  // Per-cluster Flink clients, built as the worker builds them: the cancel of an unmanaged job
  // and the check of a job on its cluster (upload, plan) use them.
  const flinkClusters = new ClusterGateways(clusters, {
    savepointDir: config.savepointDir,
    client: () => ({
      timeoutMs: config.flinkTimeoutMs,
      runTimeoutMs: config.flinkTimeoutMs * 12,
      onCall: (endpoint, outcome, seconds) => {
        metrics.flinkCalls.inc({ endpoint, outcome });
        metrics.flinkCallDuration.observe({ endpoint }, seconds);
      },
    }),
  });
  // JARs reach Flink as the worker puts them there (same limits, same allowed hosts, the same
  // registry), so a checked JAR is not uploaded again by the start that follows.
  const jarSource = new HttpJarSource({
    maxBytes: config.jarMaxBytes,
    timeoutMs: config.jarDownloadTimeoutMs,
    policy: new JarUrlPolicy(config.jarAllowedHosts),
  });
  const validation = new ValidateOnFlink({
    jobs,
    clusters: flinkClusters,
    jars: new EnsureJarOnFlink(jarSource, jarRegistry, log),
    settings: { dataProcessorUrl: config.dataProcessorUrl },
  });
  const refreshGauges = async () => {
    const counts = await executions.countByStatus();
    for (const status of EXECUTION_STATUSES) metrics.executionsByStatus.set({ status }, counts[status] ?? 0);
    for (const q of queues) {
      const jobCounts = await q.getJobCounts('waiting', 'active', 'delayed', 'failed');
      for (const [state, n] of Object.entries(jobCounts)) metrics.queueJobs.set({ queue: q.name, state }, n);
    }
  };
  const boardRules = [
    ...(config.board.user && config.board.password ? [basicAuth(config.board.user, config.board.password)] : []),
    ...(tokens ? [writeToken(tokens)] : []),
  ];
  const board = boardRules.length
    ? boardMiddleware({
        queues,
        readOnly: config.board.readOnly,
        authorize: anyOf(...boardRules),
      })
    : null;
  if (board)
    log.info(
      { path: '/admin/queues', readOnly: config.board.readOnly },
      'Bull Board is on: a write API token (bearer, or as the basic-auth password) or BOARD_USER/BOARD_PASSWORD opens it',
    );
  else log.info({}, 'Bull Board is off: set API_TOKENS or BOARD_USER and BOARD_PASSWORD to serve it at /admin/queues');
  const manageJobs = new ManageJobs(jobs, schedules);
  const app = createApp(
    {
      jobs: manageJobs,
      clusters: manageClusters,
      observations,
      flinkJobs: new CancelUnownedFlinkJob({ clusters, executions, flink: flinkClusters }),
      schedules,
      validation,
      starts: new StartExecution(
        jobs,
        executions,
        new QueueSubmission(executions, queue, log),
        savepoints,
        new StopWindows(actionSchedules, calendar, clock),
      ),
      savepoints: new ManageSavepoints({ jobs, executions, savepoints, queue, clock, log }),
      actionSchedules: new ManageActionSchedules({
        jobs,
        schedules: actionSchedules,
        timer: new BullActionTimer(timer.queue),
        calendar,
        clock,
        log,
      }),
      upgrades: new RequestUpgrade({ jobs, manageJobs, executions, upgrades, queue, clock, log }),
      stops: new RequestStop({ jobs, executions, queue, clock, log }),
      history: new ReadExecutions(jobs, executions),
      webhooks: new ManageWebhooks({ webhooks, jobs, checkUrl: webhookUrlCheck(config.webhookAllowedHosts) }),
      events,
      audit,
      clock,
      log,
      health: [
        { name: 'postgres', check: () => pingPostgres(db) },
        { name: 'redis', check: () => pingRedis(redis) },
        { name: 'flink', check: flinkProbe(config.flinkJobManagerUrl, log), informational: true },
      ],
      metrics: { metrics, refresh: refreshGauges },
      auth: { tokens, metricsToken: config.metricsToken },
      corsOrigins: config.corsOrigins,
    },
    board ? [board] : [],
  );
  const server = app.listen(config.port);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : config.port}`;
  log.info({ url }, 'api listening');
  return {
    server,
    url,
    async close() {
      // Stop accepting, let in-flight requests finish, then release the pools.
      if (ensureRetry) clearTimeout(ensureRetry);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections(); // keep-alive sockets with no request in flight
      await closed;
      // Closing waits on Redis; when Redis is gone there is nothing left to flush.
      await Promise.race([
        Promise.allSettled([queue.close(), timer.close(), ...eventQueues.map((q) => q.close())]),
        new Promise((r) => setTimeout(r, 2000)),
      ]);
      redis.disconnect();
      await db.destroy();
    },
  };
}
