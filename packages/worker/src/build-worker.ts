import type { Config } from '@flink-orchestrator/config';
import { CronParserCalendar } from '@flink-orchestrator/cron';
import {
  CollectUnusedJars,
  DEFAULT_CLUSTER,
  DEFAULT_RETENTION_BATCH,
  EnsureJarOnFlink,
  failureText,
  FireScheduleTick,
  ManageSchedules,
  ObserveCluster,
  DEFAULT_OBSERVER_SETTINGS,
  PruneExecutions,
  QueueSubmission,
  ReconcileExecutions,
  RestartAfterFailure,
  SavepointOnFlink,
  PlanPreflights,
  RunPreflight,
  ValidateOnFlink,
  ManageActionSchedules,
  FireActionTick,
  ManageSavepoints,
  AdvanceUpgrade,
  ApplySavepointRetention,
  RequestStop,
  StopOnFlink,
  StopWindows,
  AbandonStaleTicks,
  SubmitToFlink,
  TransientFailure,
  type TickDispatch,
} from '@flink-orchestrator/domain';
import { HttpJarSource, JarUrlPolicy } from '@flink-orchestrator/jar-fetcher';
import { Metrics, ReachabilityLog, systemClock, type Logger } from '@flink-orchestrator/observability';
import { openStore } from '@flink-orchestrator/postgres';
import {
  BullActionTimer,
  BullScheduleTimer,
  BullWorkQueue,
  RedisLease,
  redisConnection,
  startExecutionConsumer,
  startTickConsumer,
} from '@flink-orchestrator/queue-bullmq';
import { serveMetrics } from './metrics-server';
import { every } from './periodic';
import { startEventDelivery } from './event-delivery';

/** Jars uploaded this recently are not collected: a submission or a check may be about to use them. */
const RECENT_JAR_MS = 10 * 60_000;

/** How far back the sweep looks for failures left undecided: a worker down longer restarts nothing old. */
const RESTART_SWEEP_WINDOW_MS = 24 * 3600_000;
import { ClusterGateways } from '@flink-orchestrator/flink-rest';
import { ClusterObservers } from './cluster-observers';
import { observerMetrics } from './observer-metrics';

export interface RunningWorker {
  close(): Promise<void>;
}

/** Wires one worker process: BullMQ consumers in front of the pipeline use cases. */
export async function buildWorker(config: Config, log: Logger): Promise<RunningWorker> {
  const metrics = new Metrics('worker');
  const {
    db,
    jobs,
    executions,
    jarRegistry,
    observations,
    savepoints,
    upgrades,
    actionSchedules,
    events,
    webhooks,
    clusters: clusterRows,
  } = await openStore(
    config.databaseUrl,
    // Each in-flight pipeline may hold one connection for a JAR lock and use another.
    {
      migrate: config.migrateOnStart,
      createDatabase: config.createDatabase,
      poolMax: config.workerConcurrency * 2 + 4,
      onExecutionEnded: (status) => metrics.executionsEnded.inc({ status }),
    },
    log,
  );
  const producer = redisConnection(config.redisUrl, 'producer', config.redisClusterNodes ?? undefined);
  const blocking = redisConnection(config.redisUrl, 'worker', config.redisClusterNodes ?? undefined);
  const queue = new BullWorkQueue(producer, config.queuePrefix, {
    attempts: config.retryAttempts,
    backoffMs: config.retryBackoffMs,
  });
  const timer = new BullScheduleTimer(producer, config.queuePrefix);
  // FLINK_JOBMANAGER_URL is the `default` cluster (one statement: replicas starting together agree).
  await clusterRows.upsertUrl(DEFAULT_CLUSTER, config.flinkJobManagerUrl);
  // One client per cluster, each logging its own outages once.
  const reachability = new Map<string, ReachabilityLog>();
  const clusters = new ClusterGateways(clusterRows, {
    savepointDir: config.savepointDir,
    client: (cluster) => {
      const key = `${cluster.name} ${cluster.url}`;
      let flinkReachability = reachability.get(key);
      if (!flinkReachability)
        reachability.set(key, (flinkReachability = new ReachabilityLog(log, 'flink', cluster.url)));
      const observed = flinkReachability;
      return {
        timeoutMs: config.flinkTimeoutMs,
        runTimeoutMs: config.flinkTimeoutMs * 12,
        onCall: (endpoint, outcome, seconds) => {
          observed.observe(outcome !== 'unreachable');
          metrics.flinkCalls.inc({ endpoint, outcome });
          metrics.flinkCallDuration.observe({ endpoint }, seconds);
        },
      };
    },
  });
  const jarSource = new HttpJarSource({
    maxBytes: config.jarMaxBytes,
    timeoutMs: config.jarDownloadTimeoutMs,
    policy: new JarUrlPolicy(config.jarAllowedHosts),
  });
  const clock = systemClock;
  const jars = new EnsureJarOnFlink(jarSource, jarRegistry, log, { forMs: config.jarReuseMs, clock });
  const collectJars = new CollectUnusedJars(clusters, jarRegistry, { recentMs: RECENT_JAR_MS, clock });
  const calendar = new CronParserCalendar();
  const preflightPlans = new PlanPreflights({ queue, calendar, clock });
  const schedules = new ManageSchedules({ jobs, timer, calendar, clock, log, preflights: preflightPlans });
  const reconcile = new ReconcileExecutions(executions, queue, log);
  const prune = new PruneExecutions(executions, clock, log, {
    skippedDays: config.executionRetentionSkippedDays,
    otherDays: config.executionRetentionDays,
    batchSize: DEFAULT_RETENTION_BATCH,
    maxBatches: 50,
  });
  const poll = config.pollIntervalMs;

  const submit = new SubmitToFlink({
    jobs,
    executions,
    clusters,
    observations,
    jars,
    queue,
    clock,
    log,
    settings: {
      dataProcessorUrl: config.dataProcessorUrl,
      pollIntervalMs: poll,
      admissionTimeoutMs: config.admissionTimeoutMs,
      maxAdmissionBackoffMs: 30_000,
      // Flink gives a job its slots within moments of the run; a little more for a busy JobManager.
      admissionSettleMs: Math.max(2 * poll, 5_000),
    },
    timings: {
      observe: (stage, seconds, labels) => {
        metrics.stageDuration.observe({ stage }, seconds);
        if (labels?.jar) metrics.jarCache.inc({ result: labels.jar });
      },
    },
  });
  // Checks a program on its cluster without running it: before a tick, and before an upgrade stops anything.
  const validation = new ValidateOnFlink({
    jobs,
    clusters,
    jars,
    settings: { dataProcessorUrl: config.dataProcessorUrl },
  });
  const preflight = new RunPreflight({ jobs, validation, clock, log });
  // Stop windows hold start-schedule ticks and restarts; read from the job's action schedules.
  const windows = new StopWindows(actionSchedules, calendar, clock);
  const restarts = new RestartAfterFailure({ jobs, executions, savepoints, clusters, queue, clock, log, windows });
  const savepointWork = new SavepointOnFlink({
    executions,
    savepoints,
    clusters,
    clock,
    log,
    settings: { pollIntervalMs: Math.min(poll, 500), timeoutMs: config.stopTimeoutMs },
  });
  const retention = new ApplySavepointRetention({
    jobs,
    savepoints,
    queue,
    clock,
    log,
    defaults: config.savepointRetention,
  });
  const observers = new ClusterObservers({
    clusters: clusterRows,
    lease: new RedisLease(producer, config.queuePrefix),
    pollIntervalMs: poll,
    log,
    observerFor: (cluster, stillHolds) =>
      new ObserveCluster({
        cluster,
        stillHolds,
        executions,
        observations,
        clusters,
        clock,
        log,
        settings: { ...DEFAULT_OBSERVER_SETTINGS, lostGraceMs: config.lostGraceMs },
        restarts,
      }),
    ...observerMetrics(metrics),
  });
  const stop = new StopOnFlink({
    executions,
    clusters,
    savepoints,
    clock,
    log,
    settings: { pollIntervalMs: Math.min(poll, 500), timeoutMs: config.stopTimeoutMs },
  });
  // A tick queues its execution and, for `overlap: replace`, stops the one it replaces.
  const submissions = new QueueSubmission(executions, queue, log);
  const stops = new RequestStop({ jobs, executions, queue, clock, log });
  const upgrade = new AdvanceUpgrade({
    upgrades,
    jobs,
    executions,
    savepoints,
    stops,
    validation,
    queue,
    clock,
    log,
    settings: { pollIntervalMs: poll, confirmMs: config.upgradeConfirmMs },
  });
  const dispatch: TickDispatch = {
    submit: (execution) => submissions.run(execution),
    stop: (execution, options) => stops.forExecution(execution, options),
  };
  const actionScheduleKeeper = new ManageActionSchedules({
    jobs,
    schedules: actionSchedules,
    timer: new BullActionTimer(timer.queue),
    calendar,
    clock,
    log,
  });
  const actionTick = new FireActionTick({
    schedules: actionSchedules,
    jobs,
    executions,
    savepoints,
    submissions,
    stops,
    savepointRequests: new ManageSavepoints({ jobs, executions, savepoints, queue, clock, log }),
    windows,
    calendar,
    clock,
    log,
    settings: { misfireGraceMs: config.scheduleMisfireGraceMs },
  });
  const abandonTicks = new AbandonStaleTicks({
    schedules: actionSchedules,
    clock,
    log,
    settings: { abandonAfterMs: config.scheduleTickAbandonAfterMs },
  });
  const tick = new FireScheduleTick({
    preflights: preflightPlans,
    windows,
    jobs,
    executions,
    dispatch,
    calendar,
    clock,
    log,
    settings: { misfireGraceMs: config.scheduleMisfireGraceMs, replaceWaitMs: config.scheduleReplaceWaitMs },
    observer: {
      lateness: (seconds) => metrics.scheduleLateness.observe(seconds),
      outcome: (outcome, count = 1) => metrics.scheduleTicks.inc({ outcome }, count),
    },
  });

  // Bring every unfinished execution up to date before taking new work.
  await reconcile.sweep();
  const consumer = startExecutionConsumer(
    blocking,
    {
      submit: (id, attempt) => submit.run(id, attempt),
      stop: (id, attempt, requestedAt) => stop.run(id, attempt, requestedAt),
      savepoint: (id, attempt) => savepointWork.take(id, attempt),
      dispose: (id, attempt) => savepointWork.dispose(id, attempt),
      upgrade: (id, attempt) => upgrade.run(id, attempt),
      preflight: async (jobId, scheduledFor) => {
        await preflight.run(jobId, scheduledFor);
      },
    },
    { prefix: config.queuePrefix, concurrency: config.workerConcurrency, lockDurationMs: config.lockDurationMs },
  );
  const ticks = startTickConsumer(
    blocking,
    (jobId, at) => tick.run(jobId, at),
    {
      prefix: config.queuePrefix,
      concurrency: Math.max(config.workerConcurrency, 50),
      lockDurationMs: config.lockDurationMs,
    },
    (scheduleId, at) => actionTick.run(scheduleId, at),
  );
  for (const w of [consumer, ticks]) w.on('error', (err) => log.warn({ err }, 'queue worker error'));
  observers.start();
  const eventDelivery = startEventDelivery({
    config,
    log,
    metrics,
    clock,
    producer,
    blocking,
    outbox: events,
    webhooks,
  });

  const lease = new RedisLease(producer, config.queuePrefix);
  const period = config.reconcileIntervalMs;
  const chores = every(period, log, async () => {
    // One worker per period does the chores; the lease expires before the next period.
    if (!(await lease.tryAcquire('reconcile', Math.max(period - 1000, 250)))) return;
    const startedAt = clock.now();
    const timers = await schedules.reconcile();
    if (timers.created + timers.updated + timers.removed > 0) log.info(timers, 'schedule timers reconciled');
    const actionTimers = await actionScheduleKeeper.reconcile();
    if (actionTimers.created + actionTimers.updated + actionTimers.removed > 0)
      log.info(actionTimers, 'action schedule timers reconciled');
    // Action ticks no timer delivered (no worker ran): recorded, a stop in its open window acted on.
    const caughtUp = await actionTick.sweep();
    if (caughtUp > 0) log.info({ ticks: caughtUp }, 'action schedule ticks caught up');
    // Ticks whose worker died after the claim: settled, never run again.
    await abandonTicks.run();
    // Rows idle for a while may have lost their message (Redis flushed or failed over).
    await reconcile.sweep(new Date(clock.now().getTime() - 30_000));
    // Failures whose restart policy was not applied as they ended (a crash between the two).
    const undecidedFailures = await restarts.sweep(new Date(clock.now().getTime() - RESTART_SWEEP_WINDOW_MS));
    await retention.run();
    // Upgrades whose message was lost with Redis: sent again (a pending one is left as it is).
    for (const pending of await upgrades.listInProgress(500))
      await queue.enqueue({ kind: 'upgrade', upgradeId: pending.id });
    await prune.run();
    await eventDelivery.chores();
    try {
      await collectJars.run();
    } catch (error) {
      // Flink down: the reachability log has said so once; the next period tries again.
      if (!(error instanceof TransientFailure)) throw error;
      log.debug({ reason: failureText(error) }, 'jar garbage collection postponed');
    }
    // One line per period, from the lease holder: which worker ran the chores, and that they ran to the end.
    const tookMs = clock.now().getTime() - startedAt.getTime();
    log.info({ startedAt: startedAt.toISOString(), tookMs, undecidedFailures }, 'chores done');
  });
  // At start too: a schedule must come back within a minute of a Redis flush.
  chores.runNow();
  const metricsServer = await serveMetrics(metrics, config.metricsPort, log);
  log.info({ concurrency: config.workerConcurrency }, 'worker started');

  return {
    async close() {
      chores.stop();
      await observers.stop(); // gives the observer leases back: another worker takes over within a poll
      await lease.release('reconcile').catch(() => undefined); // Redis gone: the TTL frees it
      metricsServer.close();
      // Stop taking work; in-flight jobs get the shutdown budget, then are left to
      // another worker (their locks expire and BullMQ hands them over).
      await Promise.race([
        Promise.all([consumer.close(), ticks.close(), eventDelivery.close()]),
        new Promise((resolve) => setTimeout(resolve, config.shutdownTimeoutMs)),
      ]);
      // Closing waits on Redis; when Redis is gone there is nothing left to flush.
      await Promise.race([Promise.allSettled([queue.close(), timer.close()]), new Promise((r) => setTimeout(r, 2000))]);
      producer.disconnect();
      blocking.disconnect();
      await db.destroy();
    },
  };
}
