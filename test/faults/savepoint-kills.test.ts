import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { Gate } from '../support/gate';
import { assertHarnessIntegrity } from '../support/integrity';
import { PipelineHarness } from '../support/pipeline-harness';
import { waitFor } from '../support/wait';
import {
  eachTrial,
  HeldFlinkRequests,
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

/**
 * Savepoints as records, crashed with real processes: a disposal Flink has accepted, and a
 * periodic savepoint Flink is taking, each held with the worker SIGKILLed and a new one
 * started. The promises: a savepoint is disposed of once (one disposal asked of Flink, no
 * error, `disposedAt` set), and every savepoint Flink took has its one COMPLETED record with
 * Flink's location (none lost, none twice).
 */
describe(`fault: SIGKILL the worker during savepoint work, ${TRIALS} savepoints each`, function () {
  this.timeout(300_000);
  const h = new PipelineHarness({
    workers: 1,
    flink: { savepointDir: `file:///tmp/fo-test-savepoints-${randomUUID().slice(0, 8)}` },
    workerEnv: KILL_WORKER_ENV,
  });
  before(() => h.start());
  after(async () => {
    h.flink.setRequestHook(null);
    h.flink.setSavepointHook(null);
    await h.stop();
  });
  afterEach(() => assertHarnessIntegrity(h));

  const times = new StageTimes();
  after(() => times.print('savepoint kills'));

  const savepointRow = async (id: string) =>
    (
      await query<{
        status: string;
        disposal_trigger_id: string | null;
        disposal_requested_at: Date | null;
        disposal_error: string | null;
        disposed_at: Date | null;
      }>(
        h.databaseUrl,
        'SELECT status, disposal_trigger_id, disposal_requested_at, disposal_error, disposed_at FROM savepoints WHERE id = $1',
        [id],
      )
    )[0];

  /** A manual savepoint of the job, once COMPLETED. */
  async function takeSavepoint(jobId: string): Promise<any> {
    const res = await h.http.post(`/api/v1/jobs/${jobId}/savepoints`);
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    return waitFor(
      `savepoint ${res.body.id} to complete`,
      async () => {
        const s = (await h.http.get(`/api/v1/jobs/${jobId}/savepoints/${res.body.id}`)).body;
        return s.status === 'COMPLETED' ? s : undefined;
      },
      60_000,
    );
  }

  it('disposal: killed after Flink accepted every disposal and its trigger id was recorded', async () => {
    const mark = times.begin('disposal');
    const trials = await runningJobs(h, TRIALS);
    // The newest savepoint of a job is never disposed of: each trial disposes of its older one.
    const older = await Promise.all(
      trials.map(async (t) => {
        const first = await takeSavepoint(t.job.id);
        await takeSavepoint(t.job.id);
        return first;
      }),
    );
    const status = new HeldFlinkRequests(h.flink, (m, p) => m === 'GET' && p.startsWith('/savepoint-disposal/'));
    try {
      for (const [i, s] of older.entries())
        expect((await h.http.delete(`/api/v1/jobs/${trials[i]?.job.id}/savepoints/${s.id}`)).status).to.equal(202);
      await eachTrial(older, async (s, n) => {
        const row = await waitFor(
          `trial ${n}: the disposal of ${s.id} accepted and its status asked`,
          async () => {
            const r = await savepointRow(s.id);
            return r?.disposal_trigger_id && status.held.includes(`GET /savepoint-disposal/${r.disposal_trigger_id}`)
              ? r
              : undefined;
          },
          60_000,
        );
        expect(row, `trial ${n}`).to.include({ status: 'COMPLETED', disposal_error: null, disposed_at: null });
        expect(row.disposal_requested_at, `trial ${n}`).to.be.an.instanceOf(Date);
        expect(
          h.flink.disposalRequests.filter((p) => p === s.location),
          `trial ${n}`,
        ).to.have.length(1);
      });
      mark('held');
      await killWorkersAndReplace(h, { released: () => status.release() });
      mark('replaced');
    } finally {
      status.release();
    }
    await eachTrial(older, async (s, n) => {
      const disposed = await waitFor(
        `trial ${n}: savepoint ${s.id} to be disposed of`,
        async () => {
          const row = await savepointRow(s.id);
          return row?.disposed_at || row?.disposal_error ? row : undefined;
        },
        60_000,
      );
      expect(disposed, `trial ${n}`).to.include({ disposal_error: null });
      // The new worker asked for the status under the recorded trigger id: no second disposal.
      expect(
        h.flink.disposalRequests.filter((p) => p === s.location),
        `trial ${n}: disposals asked`,
      ).to.have.length(1);
      expect(existsSync(fileURLToPath(s.location)), `trial ${n}: ${s.location} still there`).to.equal(false);
      const events = (
        await h.http.get(`/api/v1/events?type=savepoint.disposed&jobId=${trials[n - 1]?.job.id}&limit=500`)
      ).body as any[];
      expect(
        events.filter((e) => e.data?.savepointId === s.id),
        `trial ${n}: savepoint.disposed events`,
      ).to.have.length(1);
    });
    mark('settled');
    await stopJobs(
      h,
      trials.map((t) => t.job.id),
    );
  });

  it('periodic savepoint: killed while Flink takes every tick’s savepoint (record IN_PROGRESS, tick done)', async () => {
    const mark = times.begin('periodicSavepoint');
    const trials = await runningJobs(h, TRIALS);
    const taking = new Gate();
    h.flink.setSavepointHook((jid, triggerId) => taking.pass(`${jid}/${triggerId}`));
    try {
      const at = secondsFromNow(5000);
      const schedules = await Promise.all(trials.map((t) => scheduleOnceAt(h, t.job.id, { action: 'savepoint' }, at)));
      const records = await eachTrial(trials, async (t, n) => {
        const jid = t.execution.flinkJobId as string;
        await waitFor(
          `trial ${n}: Flink to be taking the tick's savepoint`,
          () => taking.held.some((w) => w.startsWith(`${jid}/`)),
          60_000,
        );
        const rows = await query<{ id: string; kind: string; status: string; trigger_id: string }>(
          h.databaseUrl,
          'SELECT id, kind, status, trigger_id FROM savepoints WHERE execution_id = $1',
          [t.execution.id],
        );
        expect(rows, `trial ${n}: savepoint records`).to.have.length(1);
        expect(rows[0], `trial ${n}`).to.include({ kind: 'periodic', status: 'IN_PROGRESS' });
        expect(taking.held, `trial ${n}`).to.include(`${jid}/${rows[0]?.trigger_id}`);
        const ticks = await query<{ outcome: string }>(
          h.databaseUrl,
          'SELECT outcome FROM schedule_ticks WHERE schedule_id = $1',
          [schedules[n - 1]?.id],
        );
        expect(
          ticks.map((r) => r.outcome),
          `trial ${n}: ticks`,
        ).to.deep.equal(['done']);
        return rows[0] as { id: string; trigger_id: string };
      });
      mark('held');
      await killWorkersAndReplace(h, { released: () => taking.open() });
      mark('replaced');
      await eachTrial(trials, async (t, n) => {
        const jid = t.execution.flinkJobId as string;
        const record = records[n - 1] as { id: string; trigger_id: string };
        const done = await waitFor(
          `trial ${n}: savepoint ${record.id} to be settled`,
          async () => {
            const s = (await h.http.get(`/api/v1/jobs/${t.job.id}/savepoints/${record.id}`)).body;
            return s.status === 'IN_PROGRESS' ? undefined : s;
          },
          60_000,
        );
        const answer = await fetch(`${h.flink.url}/jobs/${jid}/savepoints/${record.trigger_id}`);
        const onFlink = (await answer.json()) as { operation?: { location?: string } };
        expect(done, `trial ${n}: ${JSON.stringify(done)}`).to.include({
          status: 'COMPLETED',
          location: onFlink.operation?.location,
        });
        // Flink took one savepoint of the job (the new worker resumed the same trigger id),
        // and it has exactly this record.
        const taken = h.flink.savepointTriggers.filter((x) => x.jobId === jid && x.created);
        expect(
          taken.map((x) => x.triggerId),
          `trial ${n}: savepoints Flink took`,
        ).to.deep.equal([record.trigger_id]);
        const all = (await h.http.get(`/api/v1/jobs/${t.job.id}/savepoints`)).body as any[];
        expect(
          all.map((s) => s.id),
          `trial ${n}: savepoint records`,
        ).to.deep.equal([record.id]);
      });
      mark('settled');
      for (const [i, t] of trials.entries())
        await h.http.delete(`/api/v1/jobs/${t.job.id}/schedules/${schedules[i]?.id}`);
    } finally {
      h.flink.setSavepointHook(null);
      taking.open();
    }
    await stopJobs(
      h,
      trials.map((t) => t.job.id),
    );
  });
});
