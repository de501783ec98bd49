import { expect } from 'chai';
import { assertHarnessIntegrity } from '../support/integrity';
import { PipelineHarness } from '../support/pipeline-harness';
import { ScheduleQueueProbe } from '../support/schedule-queue';
import { waitFor } from '../support/wait';
import { stopAll } from '../support/worker-processes';

const STREAMING = 'org.apache.flink.streaming.examples.windowing.TopSpeedWindowing';

/** A daily cron (6 fields, UTC) that fires at `at`'s second. */
const dailyAt = (at: Date) => `${at.getUTCSeconds()} ${at.getUTCMinutes()} ${at.getUTCHours()} * * *`;

describe('stop windows hold (SCHEDULE_MISFIRE_GRACE=1; BullMQ, worker processes, the double)', function () {
  this.timeout(120_000);
  const h = new PipelineHarness({
    workers: 1,
    workerEnv: { SCHEDULE_MISFIRE_GRACE: '1', RECONCILE_INTERVAL_MS: '1000' },
  });
  const probe = new ScheduleQueueProbe();
  before(() => h.start());
  after(async () => {
    await h.stop();
    await probe.close();
  });
  afterEach(() => assertHarnessIntegrity(h));

  const addSchedule = async (jobId: string, body: Record<string, unknown>) => {
    const res = await h.http.post(`/api/v1/jobs/${jobId}/schedules`, body);
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body;
  };

  it('a stop tick that fell due while no worker ran acts late inside its window; starts are refused (409) or SKIPPED until forced', async () => {
    const job = await h.createJob(STREAMING);
    const first = await h.waitForStatus((await h.start202(job.id)).id, 'RUNNING');

    // The outage: no worker takes ticks while the stop tick falls due.
    await stopAll(h.workers);
    const end = new Date(Date.now() + 12 * 3600_000);
    const start = await addSchedule(job.id, {
      action: 'start',
      cron: `${end.getUTCMinutes()} ${end.getUTCHours()} * * *`,
    });
    const endsAt = start.nextRuns[0] as string;
    const stopAt = new Date(Math.ceil((Date.now() + 2500) / 1000) * 1000);
    const stop = await addSchedule(job.id, { action: 'stop', cron: dailyAt(stopAt) });
    await waitFor('the stop tick to be past the grace', () => Date.now() > stopAt.getTime() + 2000, 10_000);
    h.workers.push(...(await h.addWorkers(1, 'after-outage')));

    const done = await waitFor('the stop tick acted on', async () => {
      const ticks = (await h.http.get(`/api/v1/jobs/${job.id}/schedules/${stop.id}`)).body.recentTicks;
      return ticks.find((t: { outcome: string }) => t.outcome === 'done');
    });
    expect(Date.parse(done.scheduledFor)).to.equal(stopAt.getTime());
    expect(done.detail).to.match(
      new RegExp(
        `^Stop with a savepoint asked of execution ${first.id}\\. Acted \\d+ s late \\(grace 1 s\\): its stop window is open until ${endsAt.replace(/\./g, '\\.')}\\.$`,
      ),
    );
    await h.waitForStatus(first.id, 'STOPPED');

    // Inside the window: a manual start is refused, naming the window's end; nothing is created.
    const refused = await h.http.post(`/api/v1/jobs/${job.id}/start`, {});
    expect(refused.status, JSON.stringify(refused.body)).to.equal(409);
    expect(refused.body.error.code).to.equal('in_stop_window');
    expect(refused.body.error.message).to.contain(`until ${endsAt}`);
    expect(refused.body.error.details).to.include({ endsAt, stopScheduleId: stop.id, startScheduleId: start.id });
    expect((await h.http.get(`/api/v1/jobs/${job.id}/executions`)).body).to.have.length(1);
    const bad = await h.http.post(`/api/v1/jobs/${job.id}/start`, { force: 'yes' });
    expect(bad.status).to.equal(400);
    expect(bad.body.error.details[0].field).to.equal('force');

    // The start schedule's ticks are SKIPPED, saying why.
    expect((await h.http.post(`/api/v1/jobs/${job.id}/schedule`, { cron: '*/2 * * * * *' })).status).to.equal(200);
    const held = await waitFor('a start-schedule tick held by the window', async () => {
      const rows = (await h.http.get(`/api/v1/jobs/${job.id}/executions`)).body;
      return rows.find((e: { trigger: string; status: string }) => e.trigger === 'schedule' && e.status === 'SKIPPED');
    });
    expect(held.errorMessage).to.equal(
      `Skipped: the job is in its stop window until ${endsAt} (opened by stop schedule ${stop.id} at ${stopAt.toISOString()}).`,
    );
    expect((await h.http.delete(`/api/v1/jobs/${job.id}/schedule`)).status).to.equal(204);
    await waitFor('the start schedule to settle', () => probe.settled(job.id));
    const history = (await h.http.get(`/api/v1/jobs/${job.id}/executions`)).body;
    expect(history.filter((e: { status: string }) => e.status !== 'SKIPPED')).to.have.length(1);

    // Forced: it starts inside the window.
    const forced = await h.start202(job.id, { force: true });
    await h.waitForStatus(forced.id, 'RUNNING');
    for (const s of [stop, start])
      expect((await h.http.delete(`/api/v1/jobs/${job.id}/schedules/${s.id}`)).status).to.equal(204);
    await h.http.post(`/api/v1/jobs/${job.id}/stop`);
    await h.waitForStatus(forced.id, 'CANCELLED');
  });
});
