import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { holdRunRequests } from '../support/run-gate';
import { assertHarnessIntegrity } from '../support/integrity';
import { PipelineHarness } from '../support/pipeline-harness';
import { waitFor } from '../support/wait';
import {
  eachTrial,
  flinkIdOf,
  HeldFlinkRequests,
  KILL_WORKER_ENV,
  killWorkersAndReplace,
  liveFlinkJobs,
  query,
  runningJobs,
  stopJobs,
  StageTimes,
  TRIALS,
} from './support/kill-trials';
import { RowLock } from './support/row-locks';

interface UpgradeRow extends Record<string, unknown> {
  status: string;
  step: string;
  savepoint_id: string | null;
  savepoint_location: string | null;
  job_version_before: number;
  job_version_after: number | null;
  to_execution_id: string | null;
  job_version: number;
  old_status: string;
  started: number;
}

/**
 * An upgrade's steps crashed with real processes: the worker SIGKILLed with every upgrade
 * of the stage held at one step (checked in PostgreSQL first), a new worker started. The
 * promise: every upgrade COMPLETES, the old Flink job ended with the one savepoint, and the
 * job runs exactly one Flink job, of the new definition, restored from that savepoint.
 */
describe(`fault: SIGKILL the worker at each step of an upgrade, ${TRIALS} upgrades each`, function () {
  this.timeout(300_000);
  const h = new PipelineHarness({
    workers: 1,
    flink: { savepointDir: `file:///tmp/fo-test-savepoints-${randomUUID().slice(0, 8)}` },
    workerEnv: KILL_WORKER_ENV,
  });
  before(() => h.start());
  after(async () => {
    h.flink.setRequestHook(null);
    h.flink.setRunDelayHook(null);
    await h.stop();
  });
  afterEach(() => RowLock.releaseAll());
  afterEach(() => assertHarnessIntegrity(h));

  const times = new StageTimes();
  after(() => times.print('upgrade kills'));

  /** The upgrade as PostgreSQL has it, with its job's version and the old execution's status. */
  const upgradeRow = async (id: string): Promise<UpgradeRow> => {
    const [row] = await query<UpgradeRow>(
      h.databaseUrl,
      `SELECT u.status, u.step, u.savepoint_id, u.savepoint_location, u.job_version_before, u.job_version_after,
              u.to_execution_id, j.version AS job_version, e.status AS old_status,
              (SELECT count(*)::int FROM job_executions x WHERE x.upgrade_id = u.id) AS started
         FROM upgrades u JOIN jobs j ON j.id = u.job_id JOIN job_executions e ON e.id = u.from_execution_id
        WHERE u.id = $1`,
      [id],
    );
    if (!row) throw new Error(`no upgrade ${id}`);
    return row;
  };

  /** Plans on Flink held while the upgrades are asked for: none passes its check before the test is ready. */
  async function requestUpgrades(jobIds: string[], ready: () => Promise<void>): Promise<string[]> {
    const plans = new HeldFlinkRequests(h.flink, (m, p) => m === 'POST' && /^\/jars\/[^/]+\/plan$/.test(p));
    try {
      const ids = await Promise.all(
        jobIds.map(async (jobId) => {
          const res = await h.http.post(`/api/v1/jobs/${jobId}/upgrade`, { config: { speed: 2 } });
          expect(res.status, JSON.stringify(res.body)).to.equal(202);
          return res.body.id as string;
        }),
      );
      await ready();
      return ids;
    } finally {
      plans.release();
    }
  }

  const lockJobRow = (jobId: string) =>
    RowLock.take(h.databaseUrl, `job ${jobId}`, 'SELECT 1 FROM jobs WHERE id = $1 FOR NO KEY UPDATE', [jobId]);

  /** What every trial must come to, whatever step it was killed at. */
  async function assertCompleted(trial: { job: any; execution: any }, upgradeId: string, n: number): Promise<void> {
    const done = await waitFor(
      `trial ${n}: upgrade ${upgradeId} to finish`,
      async () => {
        const u = (await h.http.get(`/api/v1/upgrades/${upgradeId}`)).body;
        return u.status === 'IN_PROGRESS' ? undefined : u;
      },
      90_000,
    );
    expect(done, `trial ${n}: ${JSON.stringify(done)}`).to.include({
      status: 'COMPLETED',
      step: 'done',
      jobVersionAfter: 2,
    });
    const old = await h.execution(trial.execution.id);
    expect(old.status, `trial ${n}: the old execution`).to.equal('STOPPED');
    expect(h.flink.job(old.flinkJobId)?.state, `trial ${n}: the old Flink job`).to.equal('FINISHED');
    // One savepoint of the old job: the stop was not asked again after the kill.
    const stops = h.flink.savepointTriggers.filter((t) => t.jobId === old.flinkJobId && t.created);
    expect(stops, `trial ${n}: savepoints of the old job`).to.have.length(1);
    const started = await h.waitForStatus(done.toExecutionId, 'RUNNING', 60_000);
    expect(started, `trial ${n}`).to.include({ trigger: 'upgrade', upgradeId, savepointId: done.savepointId });
    expect(started.definition.programArgs, `trial ${n}`).to.deep.equal(['--speed', '2']);
    expect(h.flink.job(started.flinkJobId)?.savepointPath, `trial ${n}: restored from`).to.equal(
      done.savepointLocation,
    );
    const all = (await h.http.get(`/api/v1/jobs/${trial.job.id}/executions`)).body as any[];
    expect(all.map((e) => e.id).sort(), `trial ${n}: executions of the job`).to.deep.equal([old.id, started.id].sort());
    expect(liveFlinkJobs(h.flink, all), `trial ${n}: Flink jobs of the job still running`).to.deep.equal([
      started.flinkJobId,
    ]);
  }

  it('after the savepoint stop: killed with every job change held (old execution STOPPED, step starting)', async () => {
    const mark = times.begin('afterSavepointStop');
    const trials = await runningJobs(h, TRIALS, { config: { speed: 1 } });
    let locks: RowLock[] = [];
    const upgrades = await requestUpgrades(
      trials.map((t) => t.job.id),
      async () => {
        locks = await Promise.all(trials.map((t) => lockJobRow(t.job.id)));
      },
    );
    await eachTrial(locks, (lock, n) => lock.waitForWaiter(/^update "jobs"/i, `trial ${n}`));
    await eachTrial(upgrades, async (id, n) => {
      const row = await upgradeRow(id);
      expect(row, `trial ${n}`).to.include({
        status: 'IN_PROGRESS',
        step: 'starting',
        job_version_after: null,
        to_execution_id: null,
        job_version: 1,
        old_status: 'STOPPED',
        started: 0,
      });
      expect(row.savepoint_location, `trial ${n}`).to.be.a('string');
    });
    mark('held');
    await killWorkersAndReplace(h, { locks });
    mark('replaced');
    await eachTrial(trials, (t, n) => assertCompleted(t, upgrades[n - 1] as string, n));
    mark('settled');
    await stopJobs(
      h,
      trials.map((t) => t.job.id),
    );
  });

  it('after the job change: killed with every new execution held (job at version 2, none started)', async () => {
    const mark = times.begin('afterJobChange');
    const trials = await runningJobs(h, TRIALS, { config: { speed: 1 } });
    let jobLocks: RowLock[] = [];
    const upgrades = await requestUpgrades(
      trials.map((t) => t.job.id),
      async () => {
        jobLocks = await Promise.all(trials.map((t) => lockJobRow(t.job.id)));
      },
    );
    // Held before the change; then the upgrade's savepoint is locked (the new execution
    // locks it FOR SHARE before its insert) and the change let through.
    await eachTrial(jobLocks, (lock, n) => lock.waitForWaiter(/^update "jobs"/i, `trial ${n}`));
    const savepointLocks = await eachTrial(upgrades, async (id) => {
      const row = await upgradeRow(id);
      return RowLock.take(
        h.databaseUrl,
        `savepoint ${row.savepoint_location}`,
        'SELECT 1 FROM savepoints WHERE id = $1::uuid OR location = $2 FOR UPDATE',
        [row.savepoint_id, row.savepoint_location],
      );
    });
    await Promise.all(jobLocks.map((l) => l.release()));
    await eachTrial(savepointLocks, (lock, n) =>
      lock.waitForWaiter(/FROM savepoints WHERE id = .*FOR SHARE/is, `trial ${n}`),
    );
    await eachTrial(upgrades, async (id, n) => {
      const row = await upgradeRow(id);
      expect(row, `trial ${n}`).to.include({
        status: 'IN_PROGRESS',
        step: 'starting',
        job_version_after: null,
        to_execution_id: null,
        job_version: 2,
        old_status: 'STOPPED',
        started: 0,
      });
    });
    mark('held');
    await killWorkersAndReplace(h, { locks: savepointLocks });
    mark('replaced');
    await eachTrial(trials, (t, n) => assertCompleted(t, upgrades[n - 1] as string, n));
    mark('settled');
    await stopJobs(
      h,
      trials.map((t) => t.job.id),
    );
  });

  it('after the new start: killed with every new execution’s run request held by Flink (step confirming)', async () => {
    const mark = times.begin('afterNewStart');
    const trials = await runningJobs(h, TRIALS, { config: { speed: 1 } });
    const runs = holdRunRequests(h.flink);
    try {
      const upgrades = await requestUpgrades(
        trials.map((t) => t.job.id),
        () => Promise.resolve(),
      );
      await waitFor('every new execution’s run request to be held', () => runs.arrived() >= TRIALS, 60_000);
      await eachTrial(upgrades, async (id, n) => {
        const row = await upgradeRow(id);
        expect(row, `trial ${n}`).to.include({
          status: 'IN_PROGRESS',
          step: 'confirming',
          job_version_after: 2,
          job_version: 2,
          old_status: 'STOPPED',
          started: 1,
        });
        expect(runs.jobIds(), `trial ${n}: held run requests`).to.include(flinkIdOf(row.to_execution_id ?? ''));
        expect(h.flink.submittedJobIds(), `trial ${n}`).not.to.include(flinkIdOf(row.to_execution_id ?? ''));
      });
      runs.stopHolding();
      mark('held');
      await killWorkersAndReplace(h, { released: () => runs.release() });
      mark('replaced');
      await eachTrial(trials, (t, n) => assertCompleted(t, upgrades[n - 1] as string, n));
    } finally {
      runs.release();
    }
    mark('settled');
    await stopJobs(
      h,
      trials.map((t) => t.job.id),
    );
  });
});
