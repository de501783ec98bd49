import { expect } from 'chai';
import {
  DEFAULT_OBSERVER_SETTINGS,
  flinkJobIdFor,
  ObserveCluster,
  ObserverLeaseLost,
  PermanentFailure,
  TransientFailure,
  type ExecutionStatus,
  type ObserveClusterSettings,
} from '../..';
import { world } from '../../testing/fakes';

const GRACE_MS = 30_000;

function setup(settings: Partial<ObserveClusterSettings> = {}, stillHolds?: () => boolean) {
  const w = world();
  const observer = new ObserveCluster({
    ...w,
    ...(stillHolds ? { stillHolds } : {}),
    cluster: 'default',
    settings: { ...DEFAULT_OBSERVER_SETTINGS, lostGraceMs: GRACE_MS, ...settings },
  });
  /** An execution Flink runs (or ran): its row, and its job on the fake Flink unless `onFlink` is null. */
  const execution = (
    status: ExecutionStatus = 'RUNNING',
    onFlink: string | null = 'RUNNING',
    fields: { flinkState?: string | null; runRequestedAt?: Date | null; errorMessage?: string | null } = {},
  ) => {
    const job = w.jobs.add();
    const e = w.executions.put({
      jobId: job.id,
      status,
      flinkState: 'RUNNING',
      runRequestedAt: w.clock.now(),
      ...fields,
    });
    const flinkJobId = flinkJobIdFor(e.id);
    w.executions.rows.set(e.id, { ...e, flinkJobId });
    if (onFlink) w.flink.jobs.set(flinkJobId, { state: onFlink });
    return { id: e.id, jobId: job.id, flinkJobId };
  };
  const row = (id: string) => w.executions.rows.get(id);
  return { ...w, observer, execution, row };
}

describe('ObserveCluster: one job list per cluster and tick (on fakes)', () => {
  it('follows 1,000 running executions with one overview call, and writes nothing while nothing changes', async () => {
    const t = setup();
    for (let i = 0; i < 1000; i++) t.execution();
    await t.observer.tick(); // the first tick also reads the slots and the default parallelism
    t.flink.calls.clear();
    for (let i = 0; i < 3; i++) {
      const report = await t.observer.tick();
      expect(report).to.include({ reachable: true, observed: 1000, stateChanges: 0, ended: 0 });
    }
    expect(Object.fromEntries(t.flink.calls)).to.deep.equal({ jobs_overview: 3 });
    expect(t.executions.stateWrites).to.equal(0);
  });

  it("writes every changed Flink state in one statement, and the ends one by one (FAILED with Flink's root cause)", async () => {
    const t = setup();
    const restarting = t.execution();
    const finished = t.execution();
    const failed = t.execution();
    const cancelled = t.execution();
    const unchanged = t.execution();
    t.flink.jobs.set(restarting.flinkJobId, { state: 'RESTARTING' });
    t.flink.jobs.set(finished.flinkJobId, { state: 'FINISHED' });
    t.flink.jobs.set(failed.flinkJobId, { state: 'FAILED' });
    t.flink.jobs.set(cancelled.flinkJobId, { state: 'CANCELED' });
    const report = await t.observer.tick();
    expect(report).to.include({ stateChanges: 1, ended: 3 });
    expect(t.executions.stateWrites).to.equal(1);
    expect(t.row(restarting.id)).to.include({ status: 'RUNNING', flinkState: 'RESTARTING' });
    expect(t.row(finished.id)).to.include({ status: 'FINISHED', flinkState: 'FINISHED' });
    expect(t.row(failed.id)).to.include({ status: 'FAILED', errorMessage: 'java.lang.RuntimeException: boom' });
    expect(t.row(cancelled.id)).to.include({ status: 'CANCELLED', flinkState: 'CANCELED' });
    expect(t.row(unchanged.id)).to.include({ status: 'RUNNING', flinkState: 'RUNNING' });
    expect(t.flink.calls.get('jobs_exceptions')).to.equal(1);
  });

  it('a job the overview leaves out is asked about on its own, and keeps running when Flink has it', async () => {
    const t = setup();
    const e = t.execution();
    t.flink.hiddenFromOverview.add(e.flinkJobId);
    for (let i = 0; i < 5; i++) {
      await t.observer.tick();
      t.clock.advance(GRACE_MS);
    }
    expect(t.row(e.id)).to.include({ status: 'RUNNING' });
    expect(t.flink.calls.get('jobs_status')).to.equal(5);
  });

  it('a job Flink no longer knows is LOST only once missing for the grace (a failover answers "not found" for a while)', async () => {
    const t = setup();
    const e = t.execution('RUNNING', null);
    await t.observer.tick();
    t.clock.advance(GRACE_MS - 1);
    await t.observer.tick();
    expect(t.row(e.id)).to.include({ status: 'RUNNING' });
    t.clock.advance(1);
    const report = await t.observer.tick();
    expect(report.lost).to.equal(1);
    expect(t.row(e.id)).to.include({ status: 'LOST' });
    expect(t.row(e.id)?.errorMessage).to.match(
      /^Flink no longer knows job [0-9a-f]{32} \(JobManager restarted without HA/,
    );
  });

  it('a job back within the grace starts the grace over', async () => {
    const t = setup();
    const e = t.execution('RUNNING', null);
    await t.observer.tick();
    t.clock.advance(GRACE_MS - 1);
    t.flink.jobs.set(e.flinkJobId, { state: 'RUNNING' });
    await t.observer.tick();
    t.flink.jobs.delete(e.flinkJobId);
    t.clock.advance(GRACE_MS - 1);
    await t.observer.tick();
    expect(t.row(e.id)).to.include({ status: 'RUNNING' });
  });

  it('a status call that fails leaves the job as it was: unknown is not missing', async () => {
    const t = setup({ lostGraceMs: 0 });
    const e = t.execution('RUNNING', null);
    t.flink.jobStatus = () => Promise.reject(new TransientFailure('timeout'));
    await t.observer.tick();
    expect(t.row(e.id)).to.include({ status: 'RUNNING' });
  });

  it('a STOPPING execution is the stop handler’s to end, a SUBMITTING one the submission’s: states only', async () => {
    const t = setup({ lostGraceMs: 0 });
    const stopping = t.execution('STOPPING', 'FINISHED');
    const submitting = t.execution('SUBMITTING', 'RUNNING', { flinkState: null });
    const stoppingGone = t.execution('STOPPING', null);
    await t.observer.tick();
    expect(t.row(stopping.id)).to.include({ status: 'STOPPING', flinkState: 'FINISHED' });
    expect(t.row(submitting.id)).to.include({ status: 'SUBMITTING', flinkState: null });
    expect(t.row(stoppingGone.id)).to.include({ status: 'STOPPING' });
    expect(t.flink.calls.get('jobs_status')).to.equal(undefined);
  });

  it('a submission whose outcome was unknown: its state once Flink lists it, the error cleared; LOST when Flink never had it', async () => {
    const t = setup({ lostGraceMs: 0 });
    const known = t.execution('RUNNING', 'RUNNING', {
      flinkState: 'UNKNOWN',
      errorMessage: 'Submission outcome unknown',
    });
    const never = t.execution('RUNNING', null, { flinkState: 'UNKNOWN', errorMessage: 'Submission outcome unknown' });
    await t.observer.tick();
    expect(t.row(known.id)).to.include({ status: 'RUNNING', flinkState: 'RUNNING', errorMessage: null });
    expect(t.row(never.id)).to.include({ status: 'LOST' });
  });

  it('unreachable: every RUNNING execution says so, the cluster since when; back: states return', async () => {
    const t = setup();
    const a = t.execution();
    const b = t.execution();
    await t.observer.tick();
    const overview = t.flink.jobsOverview.bind(t.flink);
    t.flink.jobsOverview = () => Promise.reject(new TransientFailure('connect ECONNREFUSED'));
    t.clock.advance(1000);
    const down = await t.observer.tick();
    expect(down.reachable).to.equal(false);
    expect(t.row(a.id)).to.include({ status: 'RUNNING', flinkState: 'UNREACHABLE' });
    expect(t.row(b.id)).to.include({ status: 'RUNNING', flinkState: 'UNREACHABLE' });
    const observation = await t.observations.get('default');
    expect(observation).to.include({ reachable: false, lastError: 'connect ECONNREFUSED' });
    expect(observation?.reachableSince).to.deep.equal(t.clock.now());
    const downSince = t.clock.now();
    const saves = t.observations.saves;
    t.clock.advance(1000);
    await t.observer.tick();
    expect(t.observations.saves).to.equal(saves); // nothing changed: nothing written
    // Back to RUNNING during the outage (a stop that failed): it says so at the next tick.
    const late = t.execution();
    await t.observer.tick();
    expect(t.row(late.id)).to.include({ status: 'RUNNING', flinkState: 'UNREACHABLE' });

    t.flink.jobsOverview = overview;
    t.clock.advance(1000);
    await t.observer.tick();
    expect(t.row(a.id)).to.include({ status: 'RUNNING', flinkState: 'RUNNING' });
    const back = await t.observations.get('default');
    expect(back).to.include({ reachable: true, lastError: null });
    expect(back?.reachableSince.getTime()).to.be.greaterThan(downSince.getTime());
  });

  it('names the jobs Flink runs that no execution owns, and the ended executions Flink still runs', async () => {
    const t = setup();
    t.flink.jobs.set('0123456789abcdef0123456789abcdef', { state: 'RUNNING' }); // submitted by hand
    t.flink.jobs.set('fedcba9876543210fedcba9876543210', { state: 'FINISHED' }); // over: nobody's business
    const drifted = t.execution('CANCELLED', 'RUNNING');
    const owned = t.execution();
    await t.observer.tick();
    const observation = await t.observations.get('default');
    expect(observation?.unmanagedJobs.map((j) => j.flinkJobId)).to.deep.equal(['0123456789abcdef0123456789abcdef']);
    expect(observation?.driftedExecutions).to.deep.equal([
      {
        executionId: drifted.id,
        jobId: drifted.jobId,
        status: 'CANCELLED',
        flinkJobId: drifted.flinkJobId,
        flinkState: 'RUNNING',
      },
    ]);
    expect(observation?.runningJobs).to.equal(3);
    expect(JSON.stringify(observation)).not.to.contain(owned.flinkJobId);

    // Gone from Flink: gone from the lists.
    t.flink.jobs.delete('0123456789abcdef0123456789abcdef');
    t.flink.jobs.set(drifted.flinkJobId, { state: 'CANCELED' });
    await t.observer.tick();
    expect(await t.observations.get('default')).to.deep.include({ unmanagedJobs: [], driftedExecutions: [] });
  });

  it('a job run-requested by a submission in flight is not a stranger', async () => {
    const t = setup();
    const submitting = t.execution('SUBMITTING', 'RUNNING', { flinkState: null });
    await t.observer.tick();
    expect(await t.observations.get('default')).to.deep.include({ unmanagedJobs: [], driftedExecutions: [] });
    expect(t.row(submitting.id)?.status).to.equal('SUBMITTING');
  });

  it('reads the slots every few ticks, and in a tick where a job ended; the default parallelism once', async () => {
    const t = setup({ slotsEvery: 5 });
    const e = t.execution();
    for (let i = 0; i < 10; i++) await t.observer.tick();
    expect(t.flink.calls.get('overview')).to.equal(3); // ticks 1, 5 and 10
    expect(t.flink.calls.get('jobmanager_config')).to.equal(1);
    t.flink.jobs.set(e.flinkJobId, { state: 'FINISHED' });
    t.flink.slots = { ...t.flink.slots, slotsFree: 3 };
    await t.observer.tick(); // tick 11: the job ended, its slots are free again
    expect(t.flink.calls.get('overview')).to.equal(4);
    expect((await t.observations.get('default'))?.slots).to.include({
      slotsFree: 3,
      slotsTotal: 4,
      defaultParallelism: 1,
    });
  });

  it('writes the observation when something changed, and at least once per heartbeat', async () => {
    const t = setup({ heartbeatMs: 30_000, slotsEvery: 1000 });
    t.execution();
    await t.observer.tick();
    expect(t.observations.saves).to.equal(1);
    t.clock.advance(10_000);
    await t.observer.tick();
    expect(t.observations.saves).to.equal(1);
    t.clock.advance(20_000);
    await t.observer.tick();
    expect(t.observations.saves).to.equal(2);
  });

  it('GET /jobmanager/config refused (a proxy allowing only some routes): the slots from /overview are recorded all the same', async () => {
    const t = setup({ slotsEvery: 2 });
    t.execution();
    t.flink.defaultParallelism = () => Promise.reject(new PermanentFailure('Flink refused: 403 Forbidden'));
    await t.observer.tick();
    expect((await t.observations.get('default'))?.slots).to.include({
      slotsFree: 4,
      slotsTotal: 4,
      defaultParallelism: null,
    });
    // Asked again at the next slot read: once it answers, its figure joins the slots.
    t.flink.defaultParallelism = () => Promise.resolve(3);
    t.flink.slots = { ...t.flink.slots, slotsFree: 2 };
    await t.observer.tick();
    await t.observer.tick(); // tick 2: slots due
    expect((await t.observations.get('default'))?.slots).to.include({ slotsFree: 2, defaultParallelism: 3 });
  });

  it('GET /overview failing keeps the default parallelism it read: not asked again at the next slot read', async () => {
    const t = setup({ slotsEvery: 1 });
    const overview = t.flink.clusterOverview.bind(t.flink);
    t.flink.clusterOverview = () => Promise.reject(new TransientFailure('timeout of 15000ms exceeded'));
    await t.observer.tick();
    expect((await t.observations.get('default'))?.slots).to.equal(null);
    t.flink.clusterOverview = overview;
    await t.observer.tick();
    expect(t.flink.calls.get('jobmanager_config')).to.equal(1);
    expect((await t.observations.get('default'))?.slots).to.include({ slotsFree: 4, defaultParallelism: 1 });
  });

  it('a tick whose lease is lost while Flink answers writes nothing: no states, no ends, no observation', async () => {
    let holds = true;
    const t = setup({ heartbeatMs: 0 }, () => holds);
    const changed = t.execution();
    const ended = t.execution();
    const gone = t.execution('RUNNING', null);
    await t.observer.tick();
    const saves = t.observations.saves;
    const saved = await t.observations.get('default');
    t.flink.jobs.set(changed.flinkJobId, { state: 'RESTARTING' });
    t.flink.jobs.set(ended.flinkJobId, { state: 'FAILED' });
    t.clock.advance(GRACE_MS);
    const overview = t.flink.jobsOverview.bind(t.flink);
    t.flink.jobsOverview = async () => {
      const jobs = await overview();
      holds = false; // the lease expired while this call was in flight, another worker took it
      return jobs;
    };
    let thrown: unknown;
    await t.observer.tick().catch((error: unknown) => (thrown = error));
    expect(t.row(changed.id)).to.include({ status: 'RUNNING', flinkState: 'RUNNING' });
    expect(t.row(ended.id)).to.include({ status: 'RUNNING' });
    expect(t.row(gone.id)).to.include({ status: 'RUNNING' });
    expect(t.executions.stateWrites).to.equal(0);
    expect(t.observations.saves).to.equal(saves);
    expect(await t.observations.get('default')).to.deep.equal(saved);
    expect(thrown).to.be.instanceOf(ObserverLeaseLost);

    // Unreachable once the lease is gone: no execution marked, nothing saved either.
    t.flink.jobsOverview = () => Promise.reject(new TransientFailure('connect ECONNREFUSED'));
    thrown = undefined;
    await t.observer.tick().catch((error: unknown) => (thrown = error));
    expect(thrown).to.be.instanceOf(ObserverLeaseLost);
    expect(t.row(changed.id)?.flinkState).to.equal('RUNNING');
    expect(t.observations.saves).to.equal(saves);
  });
});
