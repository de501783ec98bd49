import { randomBytes, randomUUID } from 'node:crypto';
import type { AdmissionWait, ClusterObservation, Execution, ExecutionStatus } from '@flink-orchestrator/domain';
import {
  connect,
  KnexClusterObservations,
  KnexClusterRepository,
  KnexExecutionRepository,
  KnexJobRepository,
  type Knex,
} from '@flink-orchestrator/postgres';
import { expect } from 'chai';
import { databaseUrl } from '../../../test/support/test-env';

/**
 * Cluster observations, slot admission's figures and the observer's execution queries,
 * against real PostgreSQL. The run's database is shared with other tests: every cluster
 * and job here has a name of its own, and only those are deleted.
 */
describe('cluster observations and observed executions (real PostgreSQL)', () => {
  let db: Knex;
  let clusters: KnexClusterRepository;
  let jobs: KnexJobRepository;
  let executions: KnexExecutionRepository;
  let observations: KnexClusterObservations;
  const run = randomBytes(4).toString('hex');
  const clusterNames: string[] = [];
  const jobIds: string[] = [];

  before(() => {
    db = connect(databaseUrl());
    clusters = new KnexClusterRepository(db);
    jobs = new KnexJobRepository(db);
    executions = new KnexExecutionRepository(db);
    observations = new KnexClusterObservations(db);
  });
  after(async () => {
    if (!db) return;
    // Executions go with their jobs, observations with their clusters.
    if (jobIds.length > 0) await db('jobs').whereIn('id', jobIds).delete();
    if (clusterNames.length > 0) await db('clusters').whereIn('name', clusterNames).delete();
    await db.destroy();
  });

  let clusterCount = 0;
  const newCluster = async (): Promise<string> => {
    clusterCount += 1;
    const name = `obs-${run}-${clusterCount}`;
    await clusters.create({ name, url: 'http://127.0.0.1:9', auth: null, savepointDir: null });
    clusterNames.push(name);
    return name;
  };
  const newJob = async (
    cluster: string,
    over: { parallelism?: number | null; admission?: 'slots' | 'ignore' } = {},
  ): Promise<string> => {
    const job = await jobs.create({
      name: `obs-${run}-${randomUUID().slice(0, 8)}`,
      jarUrl: 'a.jar',
      entryClass: null,
      config: {},
      parallelism: over.parallelism ?? null,
      enabled: true,
      cluster,
      admission: over.admission ?? 'slots',
    });
    jobIds.push(job.id);
    return job.id;
  };
  const flinkId = () => randomBytes(16).toString('hex');
  /** An execution put straight into the given state (the repository's transitions are tested elsewhere). */
  const execution = async (
    jobId: string,
    status: ExecutionStatus,
    over: {
      parallelism?: number | null;
      runRequestedAt?: Date | null;
      flinkJobId?: string | null;
      flinkState?: string | null;
      errorMessage?: string | null;
    } = {},
  ): Promise<string> => {
    const outcome = await executions.insert(
      {
        jobId,
        trigger: 'manual',
        status: 'QUEUED',
        parallelism: over.parallelism ?? null,
        savepointPath: null,
        allowNonRestoredState: false,
        scheduledFor: null,
      },
      { exclusive: false },
    );
    if (outcome.kind !== 'created') throw new Error(`not created: ${outcome.kind}`);
    await db('job_executions')
      .where({ id: outcome.execution.id })
      .update({
        status,
        run_requested_at: over.runRequestedAt ?? null,
        // Claimed for submission just before its run was requested.
        submitting_at: over.runRequestedAt ?? null,
        flink_job_id: over.flinkJobId ?? null,
        flink_state: over.flinkState ?? null,
        error_message: over.errorMessage ?? null,
      });
    return outcome.execution.id;
  };
  const row = (id: string) => db('job_executions').where({ id }).first();

  describe('KnexClusterObservations', () => {
    it('save and get round-trip an observation, jsonb lists and null slots included, and save replaces it', async () => {
      const cluster = await newCluster();
      expect(await observations.get(cluster)).to.equal(null);
      const full: ClusterObservation = {
        cluster,
        reachable: true,
        reachableSince: new Date('2026-12-01T10:00:00.123Z'),
        observedAt: new Date('2026-12-01T10:05:00.456Z'),
        lastError: null,
        runningJobs: 3,
        slots: {
          taskManagers: 2,
          slotsTotal: 8,
          slotsFree: 5,
          defaultParallelism: 2,
          flinkVersion: '1.20.1',
          observedAt: new Date('2026-12-01T10:04:59.001Z'),
        },
        unmanagedJobs: [
          { flinkJobId: flinkId(), name: 'by hand', state: 'RUNNING', startTime: new Date('2026-12-01T09:00:00.789Z') },
          { flinkJobId: flinkId(), name: 'no start', state: 'CREATED', startTime: null },
        ],
        driftedExecutions: [
          {
            executionId: randomUUID(),
            jobId: randomUUID(),
            status: 'FAILED',
            flinkJobId: flinkId(),
            flinkState: 'RUNNING',
          },
        ],
      };
      await observations.save(full);
      const got = await observations.get(cluster);
      expect(got).to.deep.equal(full);
      expect(got?.unmanagedJobs[0]?.startTime).to.be.instanceOf(Date);

      const down: ClusterObservation = {
        cluster,
        reachable: false,
        reachableSince: new Date('2026-12-01T11:00:00.000Z'),
        observedAt: new Date('2026-12-01T11:00:30.000Z'),
        lastError: 'connect ECONNREFUSED',
        runningJobs: null,
        slots: null,
        unmanagedJobs: [],
        driftedExecutions: [],
      };
      await observations.save(down);
      expect(await observations.get(cluster)).to.deep.equal(down);
      const stored = await db('cluster_observations').where({ cluster });
      expect(stored).to.have.length(1);
      expect(stored[0]).to.include({
        task_managers: null,
        slots_total: null,
        slots_free: null,
        slots_observed_at: null,
      });
    });

    it('save for a cluster that no longer exists does nothing, silently', async () => {
      const cluster = `obs-${run}-gone`;
      await observations.save({
        cluster,
        reachable: true,
        reachableSince: new Date(),
        observedAt: new Date(),
        lastError: null,
        runningJobs: 0,
        slots: null,
        unmanagedJobs: [],
        driftedExecutions: [],
      });
      expect(await observations.get(cluster)).to.equal(null);
    });

    it('freeSlots: the observed figure less the executions claimed since (or within settleMs before) it', async () => {
      const cluster = await newCluster();
      const other = await newCluster();
      const job = await newJob(cluster); // no parallelism: the cluster's default applies
      const otherJob = await newJob(other);
      expect(await observations.freeSlots(cluster, 5000)).to.equal(null); // never observed

      const at = new Date(Date.now() - 60_000);
      const ms = (offset: number) => new Date(at.getTime() + offset);
      const figures = {
        taskManagers: 3,
        slotsTotal: 12,
        slotsFree: 10,
        defaultParallelism: 2,
        flinkVersion: '1.20.1',
        observedAt: at,
      };
      const base: ClusterObservation = {
        cluster,
        reachable: true,
        reachableSince: ms(-3_600_000),
        observedAt: at,
        lastError: null,
        runningJobs: 1,
        slots: figures,
        unmanagedJobs: [],
        driftedExecutions: [],
      };
      await observations.save(base);
      expect(await observations.freeSlots(cluster, 5000)).to.deep.equal({ free: 10, figures });

      // Counted by Flink already (claimed long before the figure was read): not taken again.
      await execution(job, 'RUNNING', { parallelism: 5, runRequestedAt: ms(-60_000), flinkJobId: flinkId() });
      // Claimed after the figure was read: taken.
      await execution(job, 'RUNNING', { parallelism: 4, runRequestedAt: ms(1_000), flinkJobId: flinkId() });
      // Claimed 2 s before it, within the settle margin: taken, at the cluster's default parallelism.
      await execution(job, 'SUBMITTING', { runRequestedAt: ms(-2_000) });
      // Ended, not yet claimed, or on another cluster: never taken.
      await execution(job, 'FAILED', { parallelism: 5, runRequestedAt: ms(1_000) });
      await execution(job, 'QUEUED', { parallelism: 5 });
      await execution(otherJob, 'RUNNING', { parallelism: 5, runRequestedAt: ms(1_000), flinkJobId: flinkId() });

      expect(await observations.freeSlots(cluster, 5000)).to.deep.equal({ free: 10 - 4 - 2, figures });
      expect(await observations.freeSlots(cluster, 0)).to.deep.equal({ free: 10 - 4, figures });
      expect(await observations.freeSlots(cluster, 120_000)).to.deep.equal({ free: 0, figures }); // 10-5-4-2 < 0

      // Without a default parallelism, an execution without one takes 1 slot.
      const noDefault = { ...figures, defaultParallelism: null };
      await observations.save({ ...base, slots: noDefault });
      expect(await observations.freeSlots(cluster, 5000)).to.deep.equal({ free: 10 - 4 - 1, figures: noDefault });

      // Slots unknown: no answer.
      await observations.save({ ...base, slots: null });
      expect(await observations.freeSlots(cluster, 5000)).to.equal(null);
    });
  });

  describe('KnexExecutionRepository, for the observer', () => {
    it('listObserved: RUNNING ones, and SUBMITTING/STOPPING ones whose run was requested, with a Flink job, of that cluster only', async () => {
      const cluster = await newCluster();
      const other = await newCluster();
      const job = await newJob(cluster);
      const otherJob = await newJob(other);
      const requested = new Date();
      const running = flinkId();
      const expected = [
        await execution(job, 'RUNNING', { flinkJobId: running, flinkState: 'RUNNING' }),
        await execution(job, 'SUBMITTING', { runRequestedAt: requested, flinkJobId: flinkId() }),
        await execution(job, 'STOPPING', { runRequestedAt: requested, flinkJobId: flinkId(), flinkState: 'RUNNING' }),
      ];
      // Left out: no Flink job id, run never requested, not active, or on another cluster.
      await execution(job, 'RUNNING');
      await execution(job, 'SUBMITTING', { runRequestedAt: requested });
      await execution(job, 'SUBMITTING', { flinkJobId: flinkId() });
      await execution(job, 'STOPPING', { flinkJobId: flinkId() });
      await execution(job, 'QUEUED');
      await execution(job, 'FINISHED', { runRequestedAt: requested, flinkJobId: flinkId() });
      await execution(job, 'FAILED', { runRequestedAt: requested, flinkJobId: flinkId() });
      await execution(otherJob, 'RUNNING', { runRequestedAt: requested, flinkJobId: flinkId() });

      const observed = await executions.listObserved(cluster);
      expect(observed.map((o) => o.id).sort()).to.deep.equal([...expected].sort());
      expect(observed.find((o) => o.id === expected[0])).to.deep.equal({
        id: expected[0],
        jobId: job,
        status: 'RUNNING',
        flinkJobId: running,
        flinkState: 'RUNNING',
      });
      expect(observed.find((o) => o.id === expected[1])).to.include({ status: 'SUBMITTING', flinkState: null });
      expect(await executions.listObserved(`obs-${run}-nowhere`)).to.deep.equal([]);
    });

    it('listObserved can be served by job_executions_observed_idx', async () => {
      const plan = await db.transaction(async (trx) => {
        await trx.raw('SET LOCAL enable_seqscan = off');
        const { rows } = await trx.raw<{ rows: { 'QUERY PLAN': string }[] }>(
          `EXPLAIN SELECT id, job_id, status, flink_job_id, flink_state FROM job_executions
            WHERE cluster = 'x' AND status IN ('SUBMITTING', 'RUNNING', 'STOPPING')
              AND (status = 'RUNNING' OR run_requested_at IS NOT NULL) AND flink_job_id IS NOT NULL`,
        );
        return rows.map((r) => r['QUERY PLAN']).join('\n');
      });
      expect(plan).to.contain('job_executions_observed_idx');
    });

    it('recordFlinkStates writes many states in one call, clears errors when asked, and leaves ended ones alone', async () => {
      const cluster = await newCluster();
      const job = await newJob(cluster);
      const a = await execution(job, 'RUNNING', { flinkJobId: flinkId(), flinkState: 'RUNNING', errorMessage: 'odd' });
      const b = await execution(job, 'RUNNING', { flinkJobId: flinkId(), flinkState: 'WEIRD', errorMessage: 'odd' });
      const c = await execution(job, 'STOPPING', { flinkJobId: flinkId(), flinkState: 'RUNNING' });
      const ended = await execution(job, 'FAILED', { flinkJobId: flinkId(), flinkState: 'FAILED', errorMessage: 'x' });
      const queued = await execution(job, 'QUEUED');
      const before = (await row(a)).updated_at as Date;

      await executions.recordFlinkStates([]); // nothing to do, no error
      await executions.recordFlinkStates([
        { id: a, flinkState: 'RESTARTING', clearError: false },
        { id: b, flinkState: 'RUNNING', clearError: true },
        { id: c, flinkState: 'CANCELLING', clearError: true },
        { id: ended, flinkState: 'RUNNING', clearError: true },
        { id: queued, flinkState: 'RUNNING', clearError: true },
        { id: randomUUID(), flinkState: 'RUNNING', clearError: false },
      ]);
      expect(await row(a)).to.include({ flink_state: 'RESTARTING', error_message: 'odd' });
      expect((await row(a)).updated_at.getTime()).to.be.greaterThan(before.getTime());
      expect(await row(b)).to.include({ flink_state: 'RUNNING', error_message: null });
      expect(await row(c)).to.include({ flink_state: 'CANCELLING', error_message: null });
      expect(await row(ended)).to.include({ status: 'FAILED', flink_state: 'FAILED', error_message: 'x' });
      expect(await row(queued)).to.include({ status: 'QUEUED', flink_state: null });

      // Many at once: one statement.
      const inserted: { id: string }[] = await db('job_executions')
        .insert(
          Array.from({ length: 500 }, () => ({
            job_id: job,
            cluster,
            trigger: 'manual',
            status: 'RUNNING',
            flink_job_id: flinkId(),
            flink_state: 'RUNNING',
          })),
        )
        .returning('id');
      const many = inserted.map((r) => r.id);
      let statements = 0;
      const counted = () => {
        statements += 1;
      };
      db.on('query', counted);
      try {
        await executions.recordFlinkStates(many.map((id) => ({ id, flinkState: 'RESTARTING', clearError: false })));
        await executions.recordFlinkStates([]);
      } finally {
        db.off('query', counted);
      }
      expect(statements).to.equal(1);
      const states = await db('job_executions').whereIn('id', many).select('flink_state');
      expect(states.map((s) => s.flink_state)).to.deep.equal(many.map(() => 'RESTARTING'));
    });

    it("markUnreachable marks the cluster's RUNNING executions once, and answers how many", async () => {
      const cluster = await newCluster();
      const other = await newCluster();
      const job = await newJob(cluster);
      const otherJob = await newJob(other);
      const a = await execution(job, 'RUNNING', { flinkJobId: flinkId(), flinkState: 'RUNNING' });
      const b = await execution(job, 'RUNNING', { flinkJobId: flinkId() });
      const already = await execution(job, 'RUNNING', { flinkJobId: flinkId(), flinkState: 'UNREACHABLE' });
      const stopping = await execution(job, 'STOPPING', { flinkJobId: flinkId(), flinkState: 'RUNNING' });
      const elsewhere = await execution(otherJob, 'RUNNING', { flinkJobId: flinkId(), flinkState: 'RUNNING' });
      const alreadyAt = (await row(already)).updated_at as Date;

      expect(await executions.markUnreachable(cluster)).to.equal(2);
      expect((await row(a)).flink_state).to.equal('UNREACHABLE');
      expect((await row(b)).flink_state).to.equal('UNREACHABLE');
      expect((await row(already)).updated_at).to.deep.equal(alreadyAt);
      expect((await row(stopping)).flink_state).to.equal('RUNNING');
      expect((await row(elsewhere)).flink_state).to.equal('RUNNING');
      expect(await executions.markUnreachable(cluster)).to.equal(0);
    });

    it('statusesOf answers the executions that exist among the ids', async () => {
      const cluster = await newCluster();
      const job = await newJob(cluster);
      const a = await execution(job, 'RUNNING', { flinkJobId: flinkId() });
      const b = await execution(job, 'CANCELLED');
      expect(await executions.statusesOf([])).to.deep.equal([]);
      const found = await executions.statusesOf([a, b, randomUUID(), 'not-a-uuid']);
      expect(found.sort((x, y) => x.id.localeCompare(y.id))).to.deep.equal(
        [
          { id: a, jobId: job, status: 'RUNNING' },
          { id: b, jobId: job, status: 'CANCELLED' },
        ].sort((x, y) => x.id.localeCompare(y.id)),
      );
      expect(await executions.statusesOf(['not-a-uuid'])).to.deep.equal([]);
    });
  });

  describe('admission', () => {
    it("a job's admission is written on create and update, and read back", async () => {
      const cluster = await newCluster();
      const id = await newJob(cluster, { admission: 'ignore' });
      expect((await jobs.get(id))?.admission).to.equal('ignore');
      expect((await jobs.update(id, { admission: 'slots' }))?.admission).to.equal('slots');
      expect((await jobs.list({ limit: 1000 })).find((j) => j.id === id)?.admission).to.equal('slots');
    });

    it("a QUEUED execution copies the job's admission, through insert and insertTick", async () => {
      const cluster = await newCluster();
      const job = await newJob(cluster, { admission: 'ignore' });
      const inserted = await executions.insert(
        {
          jobId: job,
          trigger: 'manual',
          status: 'QUEUED',
          parallelism: null,
          savepointPath: null,
          allowNonRestoredState: false,
          scheduledFor: null,
        },
        { exclusive: true },
      );
      expect(inserted.kind).to.equal('created');
      const first = (inserted as { execution: Execution }).execution;
      expect(first).to.include({ admission: 'ignore', waiting: null });
      expect((await row(first.id)).admission).to.equal('ignore');

      const otherJob = await newJob(cluster, { admission: 'ignore' });
      const tick = await executions.insertTick(
        {
          jobId: otherJob,
          trigger: 'schedule',
          status: 'QUEUED',
          parallelism: null,
          savepointPath: null,
          allowNonRestoredState: false,
          scheduledFor: new Date('2026-12-01T00:00:00.000Z'),
        },
        { skipIfActive: true },
      );
      expect(tick.kind).to.equal('created');
      expect((tick as { execution: Execution }).execution).to.include({ status: 'QUEUED', admission: 'ignore' });
      expect((await executions.get((tick as { execution: Execution }).execution.id))?.admission).to.equal('ignore');

      // The job's later edit does not move the copy.
      await jobs.update(job, { admission: 'slots' });
      expect((await executions.get(first.id))?.admission).to.equal('ignore');
      const slots = await executions.insert(
        {
          jobId: job,
          trigger: 'manual',
          status: 'QUEUED',
          parallelism: null,
          savepointPath: null,
          allowNonRestoredState: false,
          scheduledFor: null,
        },
        { exclusive: false },
      );
      expect((slots as { execution: Execution }).execution.admission).to.equal('slots');
    });

    it('waiting round-trips through patch, and null clears it', async () => {
      const cluster = await newCluster();
      const job = await newJob(cluster);
      const id = await execution(job, 'QUEUED');
      const waiting: AdmissionWait = {
        waitingFor: 'slots',
        slotsNeeded: 4,
        slotsFree: 1,
        since: new Date('2026-12-01T10:00:00.123Z'),
        checks: 3,
      };
      const patched = await executions.patch(id, ['QUEUED'], { waiting });
      expect(patched?.waiting).to.deep.equal(waiting);
      expect(patched?.waiting?.since).to.be.instanceOf(Date);
      expect((await executions.get(id))?.waiting).to.deep.equal(waiting);
      expect((await row(id)).waiting).to.deep.equal({ ...waiting, since: '2026-12-01T10:00:00.123Z' });
      // A patch that does not name it leaves it.
      expect((await executions.patch(id, ['QUEUED'], { attempt: 1 }))?.waiting).to.deep.equal(waiting);
      expect((await executions.patch(id, ['QUEUED'], { waiting: null }))?.waiting).to.equal(null);
      expect((await row(id)).waiting).to.equal(null);
    });
  });
});
