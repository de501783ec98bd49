import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { assertHarnessIntegrity } from '../support/integrity';
import { PipelineHarness } from '../support/pipeline-harness';
import { ScheduleQueueProbe } from '../support/schedule-queue';
import { waitFor } from '../support/wait';
import {
  eachTrial,
  KILL_WORKER_ENV,
  killWorkersAndReplace,
  query,
  runningJobs,
  scheduleOnceAt,
  secondsFromNow,
  StageTimes,
  stopJobs,
  TRIALS,
} from './support/kill-trials';
import { RowLock } from './support/row-locks';

/** Long enough that no tick is abandoned while the test holds it, short enough for a trial. */
const ABANDON_AFTER_S = 10;

/**
 * An action tick (a stop with a savepoint, once) crashed with real processes after its claim:
 * the worker held before the stop is asked, or after it is asked and before the outcome is
 * recorded, checked in PostgreSQL (the tick `pending`), SIGKILLed, a new worker started. The
 * promise: the tick acted at most once (never run again after the claim: a second stop, or
 * a stop where the first did not get through, is not made) and is settled `abandoned` once
 * SCHEDULE_TICK_ABANDON_AFTER has passed.
 */
describe(`fault: SIGKILL the worker acting on an action tick, ${TRIALS} ticks each`, function () {
  this.timeout(300_000);
  const h = new PipelineHarness({
    workers: 1,
    flink: { savepointDir: `file:///tmp/fo-test-savepoints-${randomUUID().slice(0, 8)}` },
    workerEnv: { ...KILL_WORKER_ENV, SCHEDULE_TICK_ABANDON_AFTER: String(ABANDON_AFTER_S) },
  });
  const probe = new ScheduleQueueProbe();
  before(() => h.start());
  after(async () => {
    await h.stop();
    await probe.close();
  });
  afterEach(() => RowLock.releaseAll());
  afterEach(() => assertHarnessIntegrity(h));

  const times = new StageTimes();
  after(() => times.print('action tick kills'));

  const lockExecution = (id: string) =>
    RowLock.take(h.databaseUrl, `execution ${id}`, 'SELECT 1 FROM job_executions WHERE id = $1 FOR NO KEY UPDATE', [
      id,
    ]);

  /** A stop schedule per job that fires once, at `at`. */
  const stopOnceAt = (jobIds: string[], at: Date) =>
    Promise.all(jobIds.map((jobId) => scheduleOnceAt(h, jobId, { action: 'stop' }, at)));

  const tickRows = (scheduleId: string) =>
    query<{ scheduled_for: Date; outcome: string; detail: string | null }>(
      h.databaseUrl,
      'SELECT scheduled_for, outcome, detail FROM schedule_ticks WHERE schedule_id = $1',
      [scheduleId],
    );

  const executionRow = async (id: string) =>
    (
      await query<{ status: string; stop_savepoint: boolean | null }>(
        h.databaseUrl,
        'SELECT status, stop_savepoint FROM job_executions WHERE id = $1',
        [id],
      )
    )[0];

  /** The tick settled `abandoned`, its schedule removed and no tick of it left in the queue. */
  async function abandonedAndSettled(scheduleId: string, jobId: string, at: Date, n: number): Promise<void> {
    const [tick] = await waitFor(
      `trial ${n}: the tick to be settled`,
      async () => {
        const rows = await tickRows(scheduleId);
        return rows.length === 1 && rows[0]?.outcome !== 'pending' ? rows : undefined;
      },
      60_000,
    );
    expect(tick?.outcome, `trial ${n}: ${tick?.detail}`).to.equal('abandoned');
    expect(tick?.scheduled_for.getTime(), `trial ${n}`).to.equal(at.getTime());
    expect(tick?.detail, `trial ${n}`).to.contain('SCHEDULE_TICK_ABANDON_AFTER');
    expect((await h.http.delete(`/api/v1/jobs/${jobId}/schedules/${scheduleId}`)).status).to.equal(204);
    // The tick's message, taken again from the dead worker, has been handled by the new one.
    await waitFor(`trial ${n}: no tick of the schedule left in the queue`, () => probe.actionSettled(scheduleId));
  }

  it('stop tick, claimed: killed with the stop not yet asked (tick pending, execution RUNNING)', async () => {
    const mark = times.begin('claimed');
    const trials = await runningJobs(h, TRIALS);
    const locks = await Promise.all(trials.map((t) => lockExecution(t.execution.id)));
    const at = secondsFromNow(5000);
    const schedules = await stopOnceAt(
      trials.map((t) => t.job.id),
      at,
    );
    await eachTrial(locks, (lock, n) => lock.waitForWaiter(/stop_requested_at/, `trial ${n}`));
    await eachTrial(trials, async (t, n) => {
      expect(
        (await tickRows(schedules[n - 1]?.id ?? '')).map((r) => r.outcome),
        `trial ${n}: ticks`,
      ).to.deep.equal(['pending']);
      expect(await executionRow(t.execution.id), `trial ${n}`).to.deep.equal({
        status: 'RUNNING',
        stop_savepoint: null,
      });
    });
    mark('held');
    await killWorkersAndReplace(h, { locks });
    mark('replaced');
    await eachTrial(trials, async (t, n) => {
      await abandonedAndSettled(schedules[n - 1]?.id ?? '', t.job.id, at, n);
      // Acted at most once: the stop the dead worker never asked is not asked by anyone.
      expect((await h.execution(t.execution.id)).status, `trial ${n}`).to.equal('RUNNING');
      expect(h.flink.job(t.execution.flinkJobId)?.state, `trial ${n}`).to.equal('RUNNING');
      expect(
        h.flink.savepointTriggers.filter((x) => x.jobId === t.execution.flinkJobId),
        `trial ${n}: stops asked of Flink`,
      ).to.deep.equal([]);
    });
    mark('settled');
    await stopJobs(
      h,
      trials.map((t) => t.job.id),
    );
  });

  it('stop tick, acted: killed with the stop asked and the outcome not yet recorded (tick pending)', async () => {
    const mark = times.begin('acted');
    const trials = await runningJobs(h, TRIALS);
    const executionLocks = await Promise.all(trials.map((t) => lockExecution(t.execution.id)));
    const at = secondsFromNow(5000);
    const schedules = await stopOnceAt(
      trials.map((t) => t.job.id),
      at,
    );
    // Held at the stop, then the claimed tick's row locked and the stop let through: each
    // worker asks for the stop and waits to record the tick's outcome.
    await eachTrial(executionLocks, (lock, n) => lock.waitForWaiter(/stop_requested_at/, `trial ${n}`));
    const tickLocks = await Promise.all(
      schedules.map((s) =>
        RowLock.take(
          h.databaseUrl,
          `tick of ${s.id}`,
          'SELECT 1 FROM schedule_ticks WHERE schedule_id = $1 AND scheduled_for = $2 FOR NO KEY UPDATE',
          [s.id, at],
        ),
      ),
    );
    await Promise.all(executionLocks.map((l) => l.release()));
    await eachTrial(tickLocks, (lock, n) => lock.waitForWaiter(/UPDATE schedule_ticks/, `trial ${n}`));
    await eachTrial(trials, async (t, n) => {
      expect(
        (await tickRows(schedules[n - 1]?.id ?? '')).map((r) => r.outcome),
        `trial ${n}: ticks`,
      ).to.deep.equal(['pending']);
      const row = await executionRow(t.execution.id);
      expect(row?.stop_savepoint, `trial ${n}: ${JSON.stringify(row)}`).to.equal(true);
    });
    mark('held');
    await killWorkersAndReplace(h, { locks: tickLocks });
    mark('replaced');
    await eachTrial(trials, async (t, n) => {
      await h.waitForStatus(t.execution.id, 'STOPPED', 60_000);
      await abandonedAndSettled(schedules[n - 1]?.id ?? '', t.job.id, at, n);
      // Acted once: one stop with a savepoint reached Flink (a retry resumes it under its trigger id).
      const stops = h.flink.savepointTriggers.filter((x) => x.jobId === t.execution.flinkJobId);
      expect(
        stops.filter((x) => x.created).map((x) => x.kind),
        `trial ${n}: stops asked of Flink`,
      ).to.deep.equal(['stop']);
      expect(new Set(stops.map((x) => x.triggerId)).size, `trial ${n}: trigger ids`).to.equal(1);
      const all = (await h.http.get(`/api/v1/jobs/${t.job.id}/executions`)).body as any[];
      expect(
        all.map((e) => e.id),
        `trial ${n}: executions`,
      ).to.deep.equal([t.execution.id]);
    });
    mark('settled');
  });
});
