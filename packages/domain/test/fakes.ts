import { randomUUID } from 'node:crypto';
import {
  ACTIVE_STATUSES,
  canTransition,
  ClusterInUse,
  ClusterNameTaken,
  DEFAULT_CLUSTER,
  PermanentFailure,
  TransientFailure,
  isTerminal,
  restartPolicyOf,
  type PreflightCheck,
  type NewUpgrade,
  type SavepointKind,
  type Upgrade,
  type UpgradeLogEntry,
  type UpgradePatch,
  type UpgradeRepository,
  type UpgradeStep,
  isRestorable,
  type DisposalOutcome,
  type DisposalStatus,
  type FlinkSavepointRecord,
  type NewSavepoint,
  type Savepoint,
  type SavepointRepository,
  restartsOn,
  type RestartDecision,
  type UndecidedFailure,
  type Clock,
  type Cluster,
  type ClusterChanges,
  type ClusterObservation,
  type ClusterObservations,
  type FlinkClusterOverview,
  type FlinkJobOverview,
  type FlinkStateChange,
  type ObservedExecution,
  type SlotFigures,
  type SubmitSettings,
  type FetchedJar,
  type JarSource,
  type ClusterGateway,
  type ClusterRepository,
  type Execution,
  type ExecutionPatch,
  type ExecutionRepository,
  type ExecutionStatus,
  type FlinkClusters,
  type FlinkGateway,
  type FlinkJobState,
  type InsertOptions,
  type InsertOutcome,
  type JobPlan,
  type PlanRequest,
  type JarRegistry,
  type Job,
  type JobChanges,
  type JobRepository,
  type Logger,
  type NewCluster,
  type NewExecution,
  type NewJob,
  type NotRunTick,
  type RunRequest,
  type SavepointStatus,
  type ScheduleInput,
  type WorkMessage,
  type WorkQueue,
} from '../src';

/**
 * In-memory stand-ins for the domain's ports, with the semantics the PostgreSQL and
 * BullMQ adapters guarantee (compare-and-set transitions, exclusive inserts, one row per
 * tick), so the use cases can be tested without services. The adapters' own tests hold
 * them to those semantics against the real thing.
 */

/** Time that moves only when told to; `sleep` moves it and then runs the test's hook. */
export class FakeClock implements Clock {
  private current: Date;
  readonly sleeps: number[] = [];
  /** Runs after each sleep: what the rest of the world does meanwhile. */
  onSleep: (ms: number) => Promise<void> | void = () => undefined;

  constructor(start = new Date('2030-01-01T00:00:00Z')) {
    this.current = start;
  }

  now(): Date {
    return new Date(this.current);
  }

  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }

  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.advance(ms);
    await this.onSleep(ms);
  }
}

export const silentLog: Logger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  debug: () => undefined,
  child: () => silentLog,
};

export class MemoryJobs implements JobRepository {
  readonly rows = new Map<string, Job>();

  constructor(private readonly clock: Clock) {}

  add(fields: Partial<Job> = {}): Job {
    const now = this.clock.now();
    const job: Job = {
      id: randomUUID(),
      name: `job-${this.rows.size + 1}`,
      jarUrl: 'app.jar',
      entryClass: 'com.example.Main',
      config: { a: 1 },
      parallelism: 2,
      enabled: true,
      cluster: DEFAULT_CLUSTER,
      admission: 'slots',
      restartPolicy: restartPolicyOf(null),
      savepointRetention: null,
      schedule: null,
      version: 1,
      createdAt: now,
      updatedAt: now,
      ...fields,
    };
    this.rows.set(job.id, job);
    return job;
  }

  create(job: NewJob): Promise<Job> {
    return Promise.resolve(this.add(job));
  }
  get(id: string): Promise<Job | null> {
    return Promise.resolve(this.rows.get(id) ?? null);
  }
  list(): Promise<Job[]> {
    return Promise.resolve([...this.rows.values()]);
  }
  update(id: string, changes: JobChanges): Promise<Job | null> {
    const job = this.rows.get(id);
    if (!job) return Promise.resolve(null);
    const updated = { ...job, ...changes, version: job.version + 1, updatedAt: this.clock.now() };
    this.rows.set(id, updated);
    return Promise.resolve(updated);
  }
  setSchedule(id: string, schedule: ScheduleInput | null): Promise<Job | null> {
    const job = this.rows.get(id);
    if (!job) return Promise.resolve(null);
    const updated: Job = {
      ...job,
      schedule: schedule
        ? {
            ...schedule,
            replace: schedule.replace ?? null,
            lastRunAt: null,
            preflightMinutes: schedule.preflightMinutes ?? null,
            preflight: null,
          }
        : null,
      updatedAt: this.clock.now(),
    };
    this.rows.set(id, updated);
    return Promise.resolve(updated);
  }
  recordPreflight(id: string, check: PreflightCheck): Promise<void> {
    const job = this.rows.get(id);
    const current = job?.schedule?.preflight;
    if (job?.schedule && !(current && current.scheduledFor > check.scheduledFor))
      this.rows.set(id, { ...job, schedule: { ...job.schedule, preflight: check } });
    return Promise.resolve();
  }
  markScheduleRun(id: string, at: Date): Promise<void> {
    const job = this.rows.get(id);
    if (job?.schedule) {
      const last = job.schedule.lastRunAt;
      this.rows.set(id, { ...job, schedule: { ...job.schedule, lastRunAt: last && last > at ? last : at } });
    }
    return Promise.resolve();
  }
  listScheduled(): Promise<Job[]> {
    return Promise.resolve([...this.rows.values()].filter((j) => j.schedule));
  }
  delete(id: string): Promise<boolean> {
    return Promise.resolve(this.rows.delete(id));
  }
}

export class MemoryExecutions implements ExecutionRepository {
  readonly rows = new Map<string, Execution>();
  /** Executions whose submit message was confirmed on the queue (their event released). */
  readonly confirmed = new Set<string>();
  /** The slot figures claimAdmitted admits by, as the PostgreSQL statement reads them. */
  observations?: MemoryObservations;
  /** The savepoints an insert checks for a disposal, as the PostgreSQL statement does. */
  savepoints?: MemorySavepoints;

  constructor(
    private readonly jobs: MemoryJobs,
    private readonly clock: Clock,
  ) {}

  /** An execution as a test needs it, stored as is. */
  put(fields: Partial<Execution> & Pick<Execution, 'jobId' | 'status'>): Execution {
    const now = this.clock.now();
    const execution: Execution = {
      id: randomUUID(),
      cluster: DEFAULT_CLUSTER,
      trigger: 'manual',
      flinkState: null,
      flinkJobId: null,
      flinkJarId: null,
      jarSha256: null,
      definition: null,
      parallelism: null,
      savepointPath: null,
      allowNonRestoredState: false,
      admission: 'slots',
      waiting: null,
      savepointLocation: null,
      stopRequest: null,
      errorMessage: null,
      attempt: 0,
      scheduledFor: null,
      restartOf: null,
      upgradeId: null,
      notBefore: null,
      preflight: null,
      restartDecision: null,
      savepointId: null,
      createdAt: now,
      submittingAt: null,
      runRequestedAt: null,
      submittedAt: null,
      startedAt: null,
      finishedAt: null,
      updatedAt: now,
      ...fields,
    };
    this.rows.set(execution.id, execution);
    return execution;
  }

  private active(jobId: string): Execution[] {
    return [...this.rows.values()].filter((e) => e.jobId === jobId && ACTIVE_STATUSES.includes(e.status));
  }

  private create(execution: NewExecution): InsertOutcome {
    const job = this.jobs.rows.get(execution.jobId);
    if (!job) return { kind: 'job_missing' };
    if (execution.scheduledFor && this.tick(execution.jobId, execution.scheduledFor)) return { kind: 'duplicate_tick' };
    // The unique index on restart_of.
    const restart = execution.restartOf
      ? [...this.rows.values()].find((e) => e.restartOf === execution.restartOf)
      : undefined;
    if (restart) return { kind: 'duplicate_restart', restart };
    const upgraded = execution.upgradeId
      ? [...this.rows.values()].find((e) => e.upgradeId === execution.upgradeId)
      : undefined;
    if (upgraded) return { kind: 'duplicate_upgrade', execution: upgraded };
    const queued = execution.status === 'QUEUED';
    const created = this.put({
      ...execution,
      cluster: job.cluster,
      admission: job.admission,
      errorMessage: execution.errorMessage ?? null,
      restartOf: execution.restartOf ?? null,
      upgradeId: execution.upgradeId ?? null,
      preflight: execution.preflight ?? null,
      notBefore: execution.notBefore ?? null,
      savepointId: execution.savepointId ?? null,
      parallelism: execution.parallelism ?? job.parallelism,
      definition: queued
        ? { jarUrl: job.jarUrl, entryClass: job.entryClass, config: job.config, jobVersion: job.version }
        : null,
      finishedAt: queued ? null : this.clock.now(),
    });
    return { kind: 'created', execution: created };
  }

  private tick(jobId: string, at: Date): Execution | null {
    return [...this.rows.values()].find((e) => e.jobId === jobId && e.scheduledFor?.getTime() === at.getTime()) ?? null;
  }

  insert(execution: NewExecution, options: InsertOptions): Promise<InsertOutcome> {
    const job = this.jobs.rows.get(execution.jobId);
    if (!job) return Promise.resolve({ kind: 'job_missing' });
    if (options.requireEnabled && !job.enabled) return Promise.resolve({ kind: 'job_disabled' });
    const active = options.exclusive ? this.active(execution.jobId)[0] : undefined;
    if (active) return Promise.resolve({ kind: 'active', active });
    if (this.restoresDisposed(execution)) return Promise.resolve({ kind: 'savepoint_disposed' });
    return Promise.resolve(this.create(execution));
  }

  /** The SQL's check: a savepoint it restores from, by id or by location, is being disposed of or was. */
  private restoresDisposed(execution: NewExecution): boolean {
    const { savepointId, savepointPath } = execution;
    if (!savepointId && savepointPath === null) return false;
    return [...(this.savepoints?.rows.values() ?? [])].some(
      (s) =>
        (s.id === savepointId || (savepointPath !== null && s.location === savepointPath)) &&
        (s.disposal !== null || s.disposedAt !== null),
    );
  }

  async insertTick(
    tick: NewExecution & { scheduledFor: Date },
    options: { skipIfActive: boolean },
  ): Promise<InsertOutcome> {
    await this.jobs.markScheduleRun(tick.jobId, tick.scheduledFor);
    const active = options.skipIfActive ? this.active(tick.jobId)[0] : undefined;
    if (!active) return this.create(tick);
    return this.create({
      ...tick,
      status: 'SKIPPED',
      errorMessage: `Skipped: execution ${active.id} is still ${active.status}.`,
    });
  }

  async insertExpectedTick(
    tick: NewExecution & { scheduledFor: Date },
    options: { skipIfActive: boolean; expect: { version: number; previousTick: Date | null } },
  ): Promise<InsertOutcome | { kind: 'stale' }> {
    const job = this.jobs.rows.get(tick.jobId);
    if (!job || job.version !== options.expect.version) return { kind: 'stale' };
    const since = Math.max(job.schedule?.lastRunAt?.getTime() ?? -Infinity, job.updatedAt.getTime());
    if (options.expect.previousTick && since < options.expect.previousTick.getTime()) return { kind: 'stale' };
    return this.insertTick(tick, options);
  }

  async insertNotRun(jobId: string, parallelism: number | null, ticks: NotRunTick[]): Promise<NotRunTick[]> {
    const inserted: NotRunTick[] = [];
    for (const t of ticks) {
      const outcome = this.create({
        jobId,
        trigger: 'schedule',
        status: t.status,
        parallelism,
        savepointPath: null,
        allowNonRestoredState: false,
        scheduledFor: t.scheduledFor,
        errorMessage: t.errorMessage,
      });
      if (outcome.kind === 'created') inserted.push(t);
      await this.jobs.markScheduleRun(jobId, t.scheduledFor);
    }
    return inserted;
  }

  findTick(jobId: string, scheduledFor: Date): Promise<Execution | null> {
    return Promise.resolve(this.tick(jobId, scheduledFor));
  }
  get(id: string): Promise<Execution | null> {
    return Promise.resolve(this.rows.get(id) ?? null);
  }
  list(): Promise<Execution[]> {
    return Promise.resolve([...this.rows.values()].reverse());
  }
  listByJob(jobId: string): Promise<Execution[]> {
    return Promise.resolve([...this.rows.values()].filter((e) => e.jobId === jobId).reverse());
  }
  findActive(jobId: string): Promise<Execution[]> {
    return Promise.resolve(this.active(jobId).reverse());
  }

  transition(
    id: string,
    to: ExecutionStatus,
    patch: ExecutionPatch = {},
    onlyFrom?: readonly ExecutionStatus[],
    guard?: { stopRequestedAt: Date },
  ): Promise<Execution | null> {
    const row = this.rows.get(id);
    if (!row || !canTransition(row.status, to) || (onlyFrom && !onlyFrom.includes(row.status)))
      return Promise.resolve(null);
    if (guard && row.stopRequest?.requestedAt.getTime() !== guard.stopRequestedAt.getTime())
      return Promise.resolve(null);
    return Promise.resolve(this.write(row, { ...patch, status: to }));
  }

  async claimAdmitted(id: string, patch: ExecutionPatch, settleMs: number): Promise<Execution | null> {
    const row = this.rows.get(id);
    if (!row || row.status !== 'QUEUED') return null;
    if (row.notBefore && row.notBefore > this.clock.now()) return null;
    if (row.admission !== 'ignore') {
      const slots = await this.observations?.freeSlots(row.cluster, settleMs);
      if (slots && slots.free < (row.parallelism ?? slots.figures.defaultParallelism ?? 1)) return null;
    }
    return this.write(row, { ...patch, status: 'SUBMITTING' });
  }

  patch(id: string, whileIn: readonly ExecutionStatus[], patch: ExecutionPatch): Promise<Execution | null> {
    const row = this.rows.get(id);
    if (!row || !whileIn.includes(row.status)) return Promise.resolve(null);
    return Promise.resolve(this.write(row, patch));
  }

  private write(row: Execution, patch: ExecutionPatch & { status?: ExecutionStatus }): Execution {
    const updated: Execution = { ...row, ...patch, updatedAt: this.clock.now() };
    this.rows.set(row.id, updated);
    return updated;
  }

  confirmQueued(ids: readonly string[]): Promise<void> {
    for (const id of ids) this.confirmed.add(id);
    return Promise.resolve();
  }

  discard(id: string): Promise<boolean> {
    // Its event is held while it is QUEUED and unconfirmed, as the trigger and the release keep it.
    const gone = this.rows.get(id)?.status === 'QUEUED' && !this.confirmed.has(id);
    if (gone) this.rows.delete(id);
    return Promise.resolve(gone);
  }
  listActive(updatedBefore?: Date): Promise<Execution[]> {
    return Promise.resolve(
      [...this.rows.values()].filter(
        (e) => ACTIVE_STATUSES.includes(e.status) && (!updatedBefore || e.updatedAt < updatedBefore),
      ),
    );
  }
  countRestarts(jobId: string, since: Date, failureId: string): Promise<number> {
    return Promise.resolve(
      [...this.rows.values()].filter(
        (e) => e.jobId === jobId && e.trigger === 'restart' && e.createdAt >= since && e.restartOf !== failureId,
      ).length,
    );
  }
  recordRestartDecision(id: string, decision: RestartDecision): Promise<boolean> {
    const row = this.rows.get(id);
    if (!row || row.restartDecision) return Promise.resolve(false);
    this.rows.set(id, { ...row, restartDecision: decision });
    return Promise.resolve(true);
  }
  listUndecidedFailures(endedAfter: Date, limit: number): Promise<UndecidedFailure[]> {
    const undecided = [...this.rows.values()].filter((e) => {
      const policy = this.jobs.rows.get(e.jobId)?.restartPolicy;
      return (
        policy &&
        restartsOn(policy, e.status) &&
        !e.restartDecision &&
        e.startedAt &&
        e.finishedAt &&
        e.finishedAt > endedAfter
      );
    });
    return Promise.resolve(undecided.slice(0, limit).map((e) => ({ id: e.id, jobId: e.jobId })));
  }
  latestSavepoint(jobId: string): Promise<string | null> {
    const ended = [...this.rows.values()].filter((e) => e.jobId === jobId && e.savepointLocation && e.finishedAt);
    ended.sort((a, b) => (b.finishedAt?.getTime() ?? 0) - (a.finishedAt?.getTime() ?? 0));
    return Promise.resolve(ended[0]?.savepointLocation ?? null);
  }
  deleteEnded(statuses: readonly ExecutionStatus[], endedBefore: Date, limit: number): Promise<number> {
    const doomed = [...this.rows.values()]
      .filter((e) => statuses.includes(e.status) && isTerminal(e.status) && e.finishedAt && e.finishedAt < endedBefore)
      .slice(0, limit);
    for (const e of doomed) this.rows.delete(e.id);
    return Promise.resolve(doomed.length);
  }
  countByStatus(): Promise<Partial<Record<ExecutionStatus, number>>> {
    const counts: Partial<Record<ExecutionStatus, number>> = {};
    for (const e of this.rows.values()) counts[e.status] = (counts[e.status] ?? 0) + 1;
    return Promise.resolve(counts);
  }

  listObserved(cluster: string): Promise<ObservedExecution[]> {
    const observed: ObservedExecution[] = [];
    for (const e of this.rows.values()) {
      if (e.cluster !== cluster || !e.flinkJobId) continue;
      const flinkMayRunIt =
        e.status === 'RUNNING' || ((e.status === 'SUBMITTING' || e.status === 'STOPPING') && e.runRequestedAt !== null);
      if (!flinkMayRunIt) continue;
      observed.push({
        id: e.id,
        jobId: e.jobId,
        status: e.status as ObservedExecution['status'],
        flinkJobId: e.flinkJobId,
        flinkState: e.flinkState,
      });
    }
    return Promise.resolve(observed);
  }
  /** How many statements recordFlinkStates took: one per call, as the PostgreSQL one. */
  stateWrites = 0;
  recordFlinkStates(changes: readonly FlinkStateChange[]): Promise<void> {
    if (changes.length > 0) this.stateWrites++;
    for (const change of changes) {
      const row = this.rows.get(change.id);
      if (!row || (row.status !== 'RUNNING' && row.status !== 'STOPPING')) continue;
      this.write(row, { flinkState: change.flinkState, ...(change.clearError ? { errorMessage: null } : {}) });
    }
    return Promise.resolve();
  }
  markUnreachable(cluster: string): Promise<number> {
    let marked = 0;
    for (const row of this.rows.values()) {
      if (row.cluster !== cluster || row.status !== 'RUNNING' || row.flinkState === 'UNREACHABLE') continue;
      this.write(row, { flinkState: 'UNREACHABLE' });
      marked++;
    }
    return Promise.resolve(marked);
  }
  statusesOf(ids: readonly string[]): Promise<Pick<Execution, 'id' | 'jobId' | 'status'>[]> {
    return Promise.resolve(
      ids.flatMap((id) => {
        const row = this.rows.get(id);
        return row ? [{ id: row.id, jobId: row.jobId, status: row.status }] : [];
      }),
    );
  }

  status(id: string): ExecutionStatus | undefined {
    return this.rows.get(id)?.status;
  }
}

/** Observations in a map; freeSlots counts claims after the slots were read, as the PostgreSQL one. */
export class MemoryObservations implements ClusterObservations {
  readonly rows = new Map<string, ClusterObservation>();
  saves = 0;

  constructor(private readonly executions?: MemoryExecutions) {}

  save(observation: ClusterObservation): Promise<void> {
    this.saves++;
    this.rows.set(observation.cluster, structuredClone(observation));
    return Promise.resolve();
  }
  get(cluster: string): Promise<ClusterObservation | null> {
    return Promise.resolve(this.rows.get(cluster) ?? null);
  }
  /** Sets a cluster's slot figures as if the observer had just read them. */
  setSlots(cluster: string, figures: Omit<SlotFigures, 'observedAt'> & { observedAt?: Date }): void {
    const now = figures.observedAt ?? new Date(0);
    this.rows.set(cluster, {
      cluster,
      reachable: true,
      reachableSince: now,
      observedAt: now,
      lastError: null,
      runningJobs: 0,
      slots: { ...figures, observedAt: now },
      unmanagedJobs: [],
      driftedExecutions: [],
    });
  }
  freeSlots(cluster: string, settleMs: number): Promise<{ free: number; figures: SlotFigures } | null> {
    const figures = this.rows.get(cluster)?.slots;
    if (!figures) return Promise.resolve(null);
    const after = figures.observedAt.getTime() - settleMs;
    let claimed = 0;
    for (const e of this.executions?.rows.values() ?? []) {
      const active = e.status === 'SUBMITTING' || e.status === 'RUNNING' || e.status === 'STOPPING';
      if (e.cluster === cluster && active && e.submittingAt && e.submittingAt.getTime() > after) {
        claimed += e.parallelism ?? figures.defaultParallelism ?? 1;
      }
    }
    return Promise.resolve({ free: Math.max(0, figures.slotsFree - claimed), figures });
  }
}

/** Records what was sent; `refuse` makes the next sends fail, as Redis down would. */
export class RecordingQueue implements WorkQueue {
  readonly sent: { message: WorkMessage; delayMs?: number }[] = [];
  refuse: Error | null = null;

  enqueue(message: WorkMessage, options: { delayMs?: number } = {}): Promise<void> {
    if (this.refuse) return Promise.reject(this.refuse);
    this.sent.push({ message, ...options });
    return Promise.resolve();
  }

  kinds(): string[] {
    return this.sent.map((s) => s.message.kind);
  }
}

/**
 * A Flink that keeps jobs in a map. Each method can be replaced by a test to inject an
 * answer or a failure; the defaults behave like a healthy session cluster.
 */
export class FakeFlink implements FlinkGateway {
  readonly jobs = new Map<string, FlinkJobState>();
  readonly jars = new Set<string>();
  readonly runs: RunRequest[] = [];
  savepoint: SavepointStatus = { status: 'COMPLETED', location: 'file:///savepoints/sp-1' };
  /** The state a stopped or cancelled job ends in. */
  stoppedState = 'CANCELED';
  /** Jobs whose tasks are not all running yet (the overview says so). */
  readonly tasksStarting = new Set<string>();
  /** Jobs the overview leaves out, as Flink does when their JobMaster does not answer in time. */
  readonly hiddenFromOverview = new Set<string>();
  slots: FlinkClusterOverview = {
    flinkVersion: '1.20.5',
    taskManagers: 1,
    slotsTotal: 4,
    slotsFree: 4,
    runningJobs: 0,
  };
  parallelismDefault: number | null = 1;
  /** Calls per endpoint, as the REST client's metrics count them. */
  readonly calls = new Map<string, number>();

  private count(endpoint: string): void {
    this.calls.set(endpoint, (this.calls.get(endpoint) ?? 0) + 1);
  }
  totalCalls(): number {
    return [...this.calls.values()].reduce((a, b) => a + b, 0);
  }

  listJarIds(): Promise<Set<string>> {
    return Promise.resolve(new Set(this.jars));
  }
  uploadJar(): Promise<string> {
    const id = `${randomUUID()}_app.jar`;
    this.jars.add(id);
    return Promise.resolve(id);
  }
  deleteJar(jarId: string): Promise<void> {
    this.jars.delete(jarId);
    return Promise.resolve();
  }
  readonly plans: PlanRequest[] = [];
  /** What planJar answers; replace it to give Flink's refusal (throw a PermanentFailure). */
  plan: (request: PlanRequest) => Promise<JobPlan> = (request) =>
    Promise.resolve({
      name: request.entryClass?.split('.').pop() ?? 'app',
      operators: [
        { id: 'a1', description: 'Source: numbers', parallelism: request.parallelism ?? 1 },
        { id: 'b2', description: 'Sink: print', parallelism: request.parallelism ?? 1 },
      ],
      maxParallelism: 128,
    });
  planJar(request: PlanRequest): Promise<JobPlan> {
    this.plans.push(request);
    // As the REST client says it: the jar went away (a JobManager restart), so trying again may help.
    if (!this.jars.has(request.jarId))
      return Promise.reject(new TransientFailure(`Flink no longer has the uploaded JAR: ${request.jarId}.`));
    return this.plan(request);
  }
  runJar(request: RunRequest): Promise<'submitted' | 'duplicate'> {
    this.runs.push(request);
    if (this.jobs.has(request.jobId)) return Promise.resolve('duplicate');
    this.jobs.set(request.jobId, { state: 'RUNNING' });
    return Promise.resolve('submitted');
  }
  getJob(jobId: string): Promise<FlinkJobState | null> {
    this.count('jobs_get');
    return Promise.resolve(this.jobs.get(jobId) ?? null);
  }
  jobsOverview(): Promise<FlinkJobOverview[]> {
    this.count('jobs_overview');
    return Promise.resolve(
      [...this.jobs]
        .filter(([jobId]) => !this.hiddenFromOverview.has(jobId))
        .map(([jobId, job]) => ({
          jobId,
          name: `job ${jobId.slice(0, 8)}`,
          state: job.state,
          startTime: 0,
          tasksRunning: !this.tasksStarting.has(jobId),
        })),
    );
  }
  jobStatus(jobId: string): Promise<FlinkJobState | null> {
    this.count('jobs_status');
    return Promise.resolve(this.jobs.get(jobId) ?? null);
  }
  clusterOverview(): Promise<FlinkClusterOverview> {
    this.count('overview');
    return Promise.resolve({ ...this.slots });
  }
  defaultParallelism(): Promise<number | null> {
    this.count('jobmanager_config');
    return Promise.resolve(this.parallelismDefault);
  }
  /** Latest completed checkpoint per Flink job; a test sets one as a retained checkpoint. */
  readonly checkpoints = new Map<string, string>();
  latestCheckpoint(jobId: string): Promise<string | null> {
    this.count('jobs_checkpoints');
    return Promise.resolve(this.checkpoints.get(jobId) ?? null);
  }
  /** The latest savepoint Flink lists in a job's checkpoint statistics; a test sets one. */
  readonly listedSavepoints = new Map<string, FlinkSavepointRecord>();
  latestSavepoint(jobId: string): Promise<FlinkSavepointRecord | null> {
    this.count('jobs_checkpoints');
    return Promise.resolve(this.listedSavepoints.get(jobId) ?? null);
  }
  /** Savepoints taken while running: by trigger id, what the status poll answers. */
  readonly savepointsTaken = new Map<string, SavepointStatus>();
  triggerSavepoint(jobId: string, options: { targetDirectory: string | null; triggerId: string }): Promise<string> {
    this.count('jobs_savepoint');
    if (!this.savepointsTaken.has(options.triggerId)) this.savepointsTaken.set(options.triggerId, this.savepoint);
    return Promise.resolve(options.triggerId);
  }
  /** Disposals by Flink's trigger id; `disposal` is what the next one ends with. */
  readonly disposals = new Map<string, { location: string; status: DisposalStatus }>();
  disposal: DisposalStatus = { status: 'COMPLETED' };
  disposeSavepoint(location: string): Promise<string> {
    this.count('savepoint_disposal');
    const triggerId = randomUUID().replace(/-/g, '');
    this.disposals.set(triggerId, { location, status: this.disposal });
    return Promise.resolve(triggerId);
  }
  disposalStatus(triggerId: string): Promise<DisposalStatus> {
    return Promise.resolve(this.disposals.get(triggerId)?.status ?? { status: 'unknown' });
  }
  failureCause(): Promise<string | null> {
    this.count('jobs_exceptions');
    return Promise.resolve('java.lang.RuntimeException: boom');
  }
  cancel(jobId: string): Promise<'accepted' | 'not_found' | 'already_terminal'> {
    if (!this.jobs.has(jobId)) return Promise.resolve('not_found');
    this.jobs.set(jobId, { state: this.stoppedState });
    return Promise.resolve('accepted');
  }
  stopWithSavepoint(
    jobId: string,
    options: { targetDirectory: string | null; drain: boolean; triggerId: string },
  ): Promise<string> {
    if (this.savepoint.status === 'COMPLETED') this.jobs.set(jobId, { state: 'FINISHED' });
    return Promise.resolve(options.triggerId);
  }
  savepointStatus(): Promise<SavepointStatus> {
    return Promise.resolve(this.savepoint);
  }
}

/** Clusters by name, each a FakeFlink; a name it does not hold is a removed cluster. */
export class FakeClusters implements FlinkClusters {
  readonly gateways = new Map<string, ClusterGateway>();

  add(cluster: string, flink: FlinkGateway = new FakeFlink(), savepointDir: string | null = null): ClusterGateway {
    const gateway = { cluster, flink, savepointDir };
    this.gateways.set(cluster, gateway);
    return gateway;
  }

  remove(cluster: string): void {
    this.gateways.delete(cluster);
  }

  gatewayFor(cluster: string): Promise<ClusterGateway> {
    const gateway = this.gateways.get(cluster);
    if (!gateway) return Promise.reject(new PermanentFailure(`The Flink cluster "${cluster}" no longer exists.`));
    return Promise.resolve(gateway);
  }
}

/** The JAR registry in maps, per cluster, as the PostgreSQL one keys it. */
export class MemoryJarRegistry implements JarRegistry {
  /** `${cluster} ${sha256}` → jar id. */
  readonly jars = new Map<string, string>();
  readonly sources = new Map<string, { etag: string; sha256: string }>();
  /** What unused() answers. */
  unusedJars: { cluster: string; sha256: string; jarId: string }[] = [];

  find(cluster: string, sha256: string): Promise<string | null> {
    return Promise.resolve(this.jars.get(`${cluster} ${sha256}`) ?? null);
  }
  remember(cluster: string, sha256: string, jarId: string): Promise<void> {
    this.jars.set(`${cluster} ${sha256}`, jarId);
    return Promise.resolve();
  }
  forget(cluster: string, sha256: string): Promise<void> {
    this.jars.delete(`${cluster} ${sha256}`);
    return Promise.resolve();
  }
  exclusively<T>(_cluster: string, _sha256: string, fn: () => Promise<T>): Promise<T> {
    return fn();
  }
  findSource(cluster: string, url: string): Promise<{ etag: string; sha256: string; jarId: string | null } | null> {
    const source = this.sources.get(url);
    if (!source) return Promise.resolve(null);
    return Promise.resolve({ ...source, jarId: this.jars.get(`${cluster} ${source.sha256}`) ?? null });
  }
  rememberSource(url: string, etag: string, sha256: string): Promise<void> {
    this.sources.set(url, { etag, sha256 });
    return Promise.resolve();
  }
  unused(): Promise<{ cluster: string; sha256: string; jarId: string }[]> {
    return Promise.resolve(this.unusedJars);
  }
}

/** A data-processor serving one content (`sha256`), recording the URLs fetched. */
export function oneJar(sha256 = 'c0ffee'): JarSource & { fetched: string[] } {
  const fetched: string[] = [];
  return {
    fetched,
    fetch: (url: string): Promise<FetchedJar> => {
      fetched.push(url);
      return Promise.resolve({
        path: '/tmp/none',
        fileName: 'app.jar',
        size: 3,
        sha256,
        etag: null,
        dispose: () => Promise.resolve(),
      });
    },
  };
}

/** SubmitToFlink's settings in the tests: the first wait for slots is 1 s, doubling up to 30 s, for 10 min. */
export const SUBMIT_SETTINGS: SubmitSettings = {
  dataProcessorUrl: 'http://dp:8080',
  pollIntervalMs: 1000,
  admissionTimeoutMs: 600_000,
  maxAdmissionBackoffMs: 30_000,
  admissionSettleMs: 5_000,
};

/** Jobs, executions, queue and Flink on one fake clock; `flink` is the `default` cluster. */
/** The savepoints table in a map, with the PostgreSQL repository's checks. */
export class MemorySavepoints implements SavepointRepository {
  readonly rows = new Map<string, Savepoint>();

  constructor(
    private readonly executions: MemoryExecutions,
    private readonly clock: Clock,
  ) {}

  begin(savepoint: NewSavepoint): Promise<Savepoint> {
    const existing = [...this.rows.values()].find(
      (s) => s.executionId === savepoint.executionId && s.triggerId === savepoint.triggerId,
    );
    if (existing && savepoint.triggerId) return Promise.resolve(existing);
    const id = randomUUID();
    const row: Savepoint = {
      ...savepoint,
      id,
      triggerId: savepoint.triggerId ?? id.replace(/-/g, ''),
      status: 'IN_PROGRESS',
      location: null,
      errorMessage: null,
      createdAt: this.clock.now(),
      completedAt: null,
      disposal: null,
      disposalError: null,
      disposedAt: null,
    };
    this.rows.set(id, row);
    return Promise.resolve(row);
  }
  /** A completed savepoint as a test needs it. */
  put(fields: Partial<Savepoint> & Pick<Savepoint, 'jobId'>): Savepoint {
    const id = randomUUID();
    const row: Savepoint = {
      id,
      executionId: null,
      cluster: DEFAULT_CLUSTER,
      kind: 'manual',
      status: 'COMPLETED',
      triggerId: id.replace(/-/g, ''),
      location: `file:///sp/savepoint-${id.slice(0, 6)}`,
      errorMessage: null,
      createdAt: this.clock.now(),
      completedAt: this.clock.now(),
      disposal: null,
      disposalError: null,
      disposedAt: null,
      ...fields,
    };
    this.rows.set(id, row);
    return row;
  }
  adopt(executionId: string, location: string, kind: SavepointKind): Promise<Savepoint | null> {
    const row = [...this.rows.values()].find((s) => s.executionId === executionId && s.location === location);
    if (!row) return Promise.resolve(null);
    const updated = { ...row, kind };
    this.rows.set(row.id, updated);
    return Promise.resolve(updated);
  }
  private settle(id: string, patch: Partial<Savepoint>): Promise<Savepoint | null> {
    const row = this.rows.get(id);
    if (!row || row.status !== 'IN_PROGRESS') return Promise.resolve(null);
    const updated = { ...row, ...patch };
    this.rows.set(id, updated);
    return Promise.resolve(updated);
  }
  complete(id: string, location: string, at: Date): Promise<Savepoint | null> {
    return this.settle(id, { status: 'COMPLETED', location, completedAt: at });
  }
  fail(id: string, reason: string): Promise<Savepoint | null> {
    return this.settle(id, { status: 'FAILED', errorMessage: reason });
  }
  get(id: string): Promise<Savepoint | null> {
    return Promise.resolve(this.rows.get(id) ?? null);
  }
  listByJob(jobId: string): Promise<Savepoint[]> {
    return Promise.resolve(
      [...this.rows.values()].filter((s) => s.jobId === jobId).sort((a, b) => +b.createdAt - +a.createdAt),
    );
  }
  private restorable(jobId?: string): Savepoint[] {
    return [...this.rows.values()]
      .filter((s) => (jobId === undefined || s.jobId === jobId) && isRestorable(s))
      .sort((a, b) => (b.completedAt?.getTime() ?? 0) - (a.completedAt?.getTime() ?? 0));
  }
  latestRestorable(jobId: string): Promise<Savepoint | null> {
    return Promise.resolve(this.restorable(jobId)[0] ?? null);
  }
  producedBy(executionIds: readonly string[]): Promise<Map<string, string[]>> {
    const produced = new Map<string, string[]>();
    for (const s of this.rows.values())
      if (s.executionId && executionIds.includes(s.executionId))
        produced.set(s.executionId, [...(produced.get(s.executionId) ?? []), s.id]);
    return Promise.resolve(produced);
  }
  requestDisposal(jobId: string, id: string, at: Date): Promise<DisposalOutcome> {
    const row = this.rows.get(id);
    if (!row || row.jobId !== jobId) return Promise.resolve({ kind: 'not_found' });
    if (row.disposal || row.disposedAt) return Promise.resolve({ kind: 'requested', savepoint: row });
    if (row.status !== 'COMPLETED' || !row.location) return Promise.resolve({ kind: 'not_completed', savepoint: row });
    if (this.restorable(jobId)[0]?.id === id) return Promise.resolve({ kind: 'newest', savepoint: row });
    const user = [...this.executions.rows.values()].find(
      (e) =>
        e.jobId === jobId &&
        ACTIVE_STATUSES.includes(e.status) &&
        (e.savepointId === id || e.savepointPath === row.location),
    );
    if (user) return Promise.resolve({ kind: 'in_use', savepoint: row, executionId: user.id });
    const updated: Savepoint = { ...row, disposal: { requestedAt: at, triggerId: null }, disposalError: null };
    this.rows.set(id, updated);
    return Promise.resolve({ kind: 'requested', savepoint: updated });
  }
  recordDisposalTrigger(id: string, triggerId: string | null): Promise<void> {
    const row = this.rows.get(id);
    if (row?.disposal && !row.disposedAt) this.rows.set(id, { ...row, disposal: { ...row.disposal, triggerId } });
    return Promise.resolve();
  }
  markDisposed(id: string, at: Date): Promise<Savepoint | null> {
    const row = this.rows.get(id);
    if (!row?.disposal || row.disposedAt) return Promise.resolve(null);
    const updated = { ...row, disposedAt: at, disposalError: null };
    this.rows.set(id, updated);
    return Promise.resolve(updated);
  }
  recordDisposalFailure(id: string, reason: string): Promise<Savepoint | null> {
    const row = this.rows.get(id);
    if (!row || row.disposedAt) return Promise.resolve(null);
    const updated = { ...row, disposal: null, disposalError: reason };
    this.rows.set(id, updated);
    return Promise.resolve(updated);
  }
  listPendingDisposals(requestedBefore: Date, limit: number): Promise<Savepoint[]> {
    return Promise.resolve(
      [...this.rows.values()]
        .filter((s) => s.disposal && !s.disposedAt && s.disposal.requestedAt < requestedBefore)
        .slice(0, limit),
    );
  }
  listPendingTakes(createdBefore: Date, limit: number): Promise<Savepoint[]> {
    return Promise.resolve(
      [...this.rows.values()]
        .filter(
          (s) =>
            s.status === 'IN_PROGRESS' && (s.kind === 'manual' || s.kind === 'periodic') && s.createdAt < createdBefore,
        )
        .slice(0, limit),
    );
  }
  jobsWithRestorable(afterJobId: string | null, limit: number): Promise<string[]> {
    const counts = new Map<string, number>();
    for (const s of this.restorable()) counts.set(s.jobId, (counts.get(s.jobId) ?? 0) + 1);
    const ids = [...counts].filter(([id, n]) => n > 1 && (afterJobId === null || id > afterJobId)).map(([id]) => id);
    return Promise.resolve(ids.sort().slice(0, limit));
  }
  listRestorable(jobId: string): Promise<Savepoint[]> {
    return Promise.resolve(this.restorable(jobId));
  }
  inUse(): Promise<Set<string>> {
    const used = new Set<string>();
    for (const e of this.executions.rows.values()) {
      if (!ACTIVE_STATUSES.includes(e.status)) continue;
      if (e.savepointId) used.add(e.savepointId);
      if (e.savepointPath) used.add(e.savepointPath);
    }
    return Promise.resolve(used);
  }
}

/** The upgrades table in a map: one in progress per job, steps moved on by compare-and-set. */
export class MemoryUpgrades implements UpgradeRepository {
  readonly rows = new Map<string, Upgrade>();

  constructor(private readonly clock: Clock) {}

  create(upgrade: NewUpgrade): Promise<Upgrade | 'in_progress'> {
    const busy = [...this.rows.values()].some((u) => u.jobId === upgrade.jobId && u.status === 'IN_PROGRESS');
    if (busy && upgrade.status === 'IN_PROGRESS') return Promise.resolve('in_progress');
    const now = this.clock.now();
    const row: Upgrade = {
      toExecutionId: null,
      savepointId: null,
      savepointLocation: null,
      stopRequestedAt: null,
      jobVersionAfter: null,
      errorMessage: null,
      recovery: null,
      finishedAt: null,
      ...upgrade,
      id: randomUUID(),
      createdAt: now,
      updatedAt: now,
    };
    this.rows.set(row.id, row);
    return Promise.resolve(row);
  }
  get(id: string): Promise<Upgrade | null> {
    return Promise.resolve(this.rows.get(id) ?? null);
  }
  listByJob(jobId: string): Promise<Upgrade[]> {
    return Promise.resolve([...this.rows.values()].filter((u) => u.jobId === jobId).reverse());
  }
  listInProgress(limit: number): Promise<Upgrade[]> {
    return Promise.resolve([...this.rows.values()].filter((u) => u.status === 'IN_PROGRESS').slice(0, limit));
  }
  advance(id: string, fromStep: UpgradeStep, patch: UpgradePatch, log?: UpgradeLogEntry): Promise<Upgrade | null> {
    const row = this.rows.get(id);
    if (!row || row.step !== fromStep || row.status !== 'IN_PROGRESS') return Promise.resolve(null);
    const updated: Upgrade = {
      ...row,
      ...patch,
      steps: log ? [...row.steps, log] : row.steps,
      updatedAt: this.clock.now(),
    };
    this.rows.set(id, updated);
    return Promise.resolve(updated);
  }
}

export function world() {
  const clock = new FakeClock();
  const jobs = new MemoryJobs(clock);
  const executions = new MemoryExecutions(jobs, clock);
  const flink = new FakeFlink();
  const clusters = new FakeClusters();
  clusters.add(DEFAULT_CLUSTER, flink, 'file:///sp');
  const observations = new MemoryObservations(executions);
  executions.observations = observations;
  const savepoints = new MemorySavepoints(executions, clock);
  executions.savepoints = savepoints;
  return {
    upgrades: new MemoryUpgrades(clock),
    clock,
    jobs,
    executions,
    observations,
    savepoints,
    queue: new RecordingQueue(),
    flink,
    clusters,
    log: silentLog,
  };
}

/** The cluster registry in a map, with the PostgreSQL one's answers (ClusterNameTaken, ClusterInUse). */
export class MemoryClusters implements ClusterRepository {
  readonly rows = new Map<string, Cluster>();

  constructor(
    private readonly clock: Clock,
    /** How many jobs name a cluster: the PostgreSQL one counts the jobs table. */
    private readonly jobsOn: (cluster: string) => number = () => 0,
  ) {}

  create(cluster: NewCluster): Promise<Cluster> {
    if (this.rows.has(cluster.name)) return Promise.reject(new ClusterNameTaken(cluster.name));
    const now = this.clock.now();
    const created: Cluster = { ...cluster, id: randomUUID(), version: 1, createdAt: now, updatedAt: now };
    this.rows.set(cluster.name, created);
    return Promise.resolve(created);
  }
  get(name: string): Promise<Cluster | null> {
    return Promise.resolve(this.rows.get(name) ?? null);
  }
  list(): Promise<Cluster[]> {
    return Promise.resolve([...this.rows.values()]);
  }
  update(name: string, changes: ClusterChanges): Promise<Cluster | null> {
    const row = this.rows.get(name);
    if (!row) return Promise.resolve(null);
    const updated = { ...row, ...changes, version: row.version + 1, updatedAt: this.clock.now() };
    this.rows.set(name, updated);
    return Promise.resolve(updated);
  }
  delete(name: string): Promise<boolean> {
    if (!this.rows.has(name)) return Promise.resolve(false);
    const jobs = this.jobsOn(name);
    if (jobs > 0) return Promise.reject(new ClusterInUse(name, jobs));
    return Promise.resolve(this.rows.delete(name));
  }
  async upsertUrl(name: string, url: string): Promise<Cluster> {
    const row = this.rows.get(name);
    if (!row) return this.create({ name, url, auth: null, savepointDir: null });
    if (row.url === url) return row;
    return (await this.update(name, { url })) as Cluster;
  }
}
