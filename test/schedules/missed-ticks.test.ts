import { expect } from 'chai';
import { Client } from 'pg';
import { PipelineHarness } from '../support/pipeline-harness';
import { ScheduleQueueProbe } from '../support/schedule-queue';
import { databaseUrl } from '../support/test-env';
import { waitFor } from '../support/wait';
import type { ServiceProcess } from '../support/worker-processes';

const FINISHING = 'org.apache.flink.streaming.examples.wordcount.WordCount';

interface Row {
  id: string;
  status: string;
  trigger: string;
  scheduledFor: string;
  errorMessage: string | null;
}

/** The worker's /metrics, on the free port it logged. */
async function workerMetric(worker: ServiceProcess, series: RegExp): Promise<number> {
  const port = /"port":(\d+)[^\n]*"msg":"worker metrics listening"/.exec(worker.output)?.[1];
  if (!port) throw new Error('the worker did not log its metrics port');
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Number(series.exec(text)?.[1] ?? 0);
}

describe('ticks that fell due while no worker ran (SCHEDULE_MISFIRE_GRACE=2)', function () {
  this.timeout(120_000);
  // No worker to begin with: the API sets the schedule and BullMQ holds its first tick.
  const h = new PipelineHarness({ workers: 0, workerEnv: { SCHEDULE_MISFIRE_GRACE: '2' } });
  const queue = new ScheduleQueueProbe();
  const db = new Client({ connectionString: databaseUrl() });
  before(async () => {
    await h.start();
    await db.connect();
  });
  after(async () => {
    await h.stop();
    await queue.close();
    await db.end();
  });

  it('a worker coming back records every tick of the outage MISSED, in the history and in schedule_ticks_total', async () => {
    const job = await h.createJob(FINISHING);
    const set = await h.http.post(`/api/v1/jobs/${job.id}/schedule`, { cron: '* * * * * *' });
    expect(set.status).to.equal(200);
    const setAt = new Date(set.body.updatedAt).getTime();
    // The outage itself is time passing: three times the grace, with the first tick held by BullMQ.
    await waitFor(
      'the first tick to be held and three graces to pass',
      async () => Date.now() - setAt >= 6000 && !(await queue.noTickPending(job.id)),
    );
    const backAt = Date.now();
    const [worker] = await h.addWorkers(1, 'after-outage');
    if (!worker) throw new Error('no worker');
    h.workers.push(worker);

    // Every whole second after the schedule was set and before the worker came back fell due.
    const due: number[] = [];
    for (let t = Math.floor(setAt / 1000) * 1000 + 1000; t <= backAt; t += 1000) due.push(t);
    // Those more than the grace (and a second of slack) older than the worker's start were missed
    // whenever the worker got to them.
    const missed = due.filter((t) => t < backAt - 3000);
    expect(missed.length).to.be.at.least(2);
    const history = async () =>
      ((await h.http.get(`/api/v1/jobs/${job.id}/executions?limit=500`)).body as Row[]).filter(
        (r) => r.trigger === 'schedule',
      );
    const rows = await waitFor('a row for every tick of the outage', async () => {
      const current = await history();
      const at = new Set(current.map((r) => new Date(r.scheduledFor).getTime()));
      return due.every((t) => at.has(t)) && current;
    });
    const byTime = new Map(rows.map((r) => [new Date(r.scheduledFor).getTime(), r]));
    for (const t of missed) expect(byTime.get(t)?.status, new Date(t).toISOString()).to.equal('MISSED');
    expect(new Set(rows.map((r) => r.scheduledFor)).size, 'one row per tick').to.equal(rows.length);
    // BullMQ delivered the one tick it held; the others it never delivers.
    const reasons = missed.map((t) => byTime.get(t)?.errorMessage ?? '');
    expect(reasons.filter((m) => /^Tick fired \d+ s late \(grace 2 s\); not run\.$/.test(m))).to.have.length(1);
    expect(reasons.filter((m) => m.startsWith('Tick not delivered by the timer'))).to.have.length(missed.length - 1);

    await h.http.delete(`/api/v1/jobs/${job.id}/schedule`);
    await waitFor('the last tick handled', () => queue.settled(job.id));
    const ours = (await history()).filter((r) => r.status === 'MISSED').length;
    // The metric counts every MISSED row this worker wrote: ours, and any of jobs other tests left scheduled.
    await waitFor('the metric to count the MISSED rows', async () => {
      const written = await db.query(
        "SELECT count(*)::int AS n FROM job_executions WHERE status = 'MISSED' AND created_at >= $1",
        [new Date(backAt)],
      );
      const counted = await workerMetric(worker, /^schedule_ticks_total\{[^}]*outcome="missed"[^}]*\} (\d+)$/m);
      return counted >= ours && counted === written.rows[0].n;
    });
  });
});
