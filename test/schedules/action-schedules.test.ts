import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { assertHarnessIntegrity } from '../support/integrity';
import { PipelineHarness } from '../support/pipeline-harness';
import { ScheduleQueueProbe } from '../support/schedule-queue';
import { waitFor } from '../support/wait';

const STREAMING = 'org.apache.flink.streaming.examples.windowing.TopSpeedWindowing';
const EVERY_2S = '*/2 * * * * *';

describe('scheduled actions: stop windows, starts from the latest savepoint, periodic savepoints (BullMQ, workers, the double)', function () {
  this.timeout(120_000);
  const h = new PipelineHarness({
    workers: 2,
    flink: { savepointDir: `file:///tmp/fo-test-savepoints-${randomUUID().slice(0, 8)}` },
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
  const schedule = async (jobId: string, id: string) =>
    (await h.http.get(`/api/v1/jobs/${jobId}/schedules/${id}`)).body;
  const removeSchedule = async (jobId: string, id: string) =>
    expect((await h.http.delete(`/api/v1/jobs/${jobId}/schedules/${id}`)).status).to.equal(204);
  const tickWith = (jobId: string, id: string, outcome: string) =>
    waitFor(`a ${outcome} tick`, async () =>
      (await schedule(jobId, id)).recentTicks.find((t: { outcome: string }) => t.outcome === outcome),
    );

  it('a stop window: stop with a savepoint, then start from the latest savepoint; each tick recorded, once', async () => {
    const job = await h.createJob(STREAMING);
    const first = await h.waitForStatus((await h.start202(job.id)).id, 'RUNNING');

    const stop = await addSchedule(job.id, { action: 'stop', cron: EVERY_2S });
    expect(stop).to.include({ action: 'stop', savepoint: true, drain: false, restoreFrom: null, timezone: 'UTC' });
    expect(stop.nextRuns).to.have.length(5);
    const stopped = await h.waitForStatus(first.id, 'STOPPED');
    const done = await tickWith(job.id, stop.id, 'done');
    expect(done.detail).to.equal(`Stop with a savepoint asked of execution ${first.id}.`);
    // Nothing runs any more: the next ticks are recorded and skipped.
    expect((await tickWith(job.id, stop.id, 'skipped')).detail).to.equal('Nothing was running.');
    await removeSchedule(job.id, stop.id);

    const start = await addSchedule(job.id, { action: 'start', cron: EVERY_2S, restoreFrom: 'latest-savepoint' });
    const restarted = await waitFor('the scheduled start', async () => {
      const rows = (await h.http.get(`/api/v1/jobs/${job.id}/executions`)).body;
      return rows.find((e: { trigger: string; status: string }) => e.trigger === 'schedule' && e.status === 'RUNNING');
    });
    const savepoints = (await h.http.get(`/api/v1/jobs/${job.id}/savepoints`)).body;
    expect(savepoints[0]).to.include({ kind: 'stop', location: stopped.savepointLocation });
    expect(restarted).to.include({ savepointId: savepoints[0].id, savepointPath: stopped.savepointLocation });
    expect((await tickWith(job.id, start.id, 'skipped')).detail).to.equal(
      `Not started: execution ${restarted.id} is still RUNNING.`,
    );
    await removeSchedule(job.id, start.id);
    // One execution per tick that started one: the started ones are exactly the done ticks.
    expect((await schedule(job.id, start.id)).error.code).to.equal('schedule_not_found');
    const scheduled = (await h.http.get(`/api/v1/jobs/${job.id}/executions`)).body.filter(
      (e: { trigger: string }) => e.trigger === 'schedule',
    );
    expect(scheduled).to.have.length(1);
    await h.http.post(`/api/v1/jobs/${job.id}/stop`);
    await h.waitForStatus(restarted.id, 'CANCELLED');
  });

  it('periodic savepoints: one per tick while the job runs, kind periodic; skipped while nothing runs', async () => {
    const job = await h.createJob(STREAMING);
    const periodic = await addSchedule(job.id, { action: 'savepoint', cron: EVERY_2S, timezone: 'Europe/Berlin' });
    expect(periodic).to.include({ action: 'savepoint', savepoint: null, timezone: 'Europe/Berlin' });
    expect((await tickWith(job.id, periodic.id, 'skipped')).detail).to.equal('Nothing was running.');

    const running = await h.waitForStatus((await h.start202(job.id)).id, 'RUNNING');
    const taken = await waitFor('two periodic savepoints', async () => {
      const list = (await h.http.get(`/api/v1/jobs/${job.id}/savepoints`)).body.filter(
        (s: { kind: string; status: string }) => s.kind === 'periodic' && s.status === 'COMPLETED',
      );
      return list.length >= 2 ? list : undefined;
    });
    expect(taken.every((s: { executionId: string }) => s.executionId === running.id)).to.equal(true);
    expect((await tickWith(job.id, periodic.id, 'done')).detail).to.match(
      /^Savepoint [0-9a-f-]{36} asked of execution/,
    );
    await removeSchedule(job.id, periodic.id);
    // Removed: its timer goes too, and once no tick of it is left, no savepoint comes any more.
    await waitFor('its timer and ticks to be gone', () => probe.actionSettled(periodic.id));
    const count = (await h.http.get(`/api/v1/jobs/${job.id}/savepoints`)).body.length;
    await h.http.post(`/api/v1/jobs/${job.id}/stop`);
    await h.waitForStatus(running.id, 'CANCELLED');
    expect((await h.http.get(`/api/v1/jobs/${job.id}/savepoints`)).body.length).to.equal(count);
  });

  it("checks before each tick: a program Flink refuses is seen on the schedule before the tick, and on the tick's execution", async () => {
    const job = await h.createJob('org.example.MissingMain');
    const set = await h.http.post(`/api/v1/jobs/${job.id}/schedule`, { cron: '*/5 * * * * *', preflightMinutes: 1 });
    expect(set.status, JSON.stringify(set.body)).to.equal(200);
    expect(set.body.schedule).to.include({ preflightMinutes: 1, preflight: null });
    const seen = await waitFor('the check before the next tick', async () => {
      const current = (await h.http.get(`/api/v1/jobs/${job.id}`)).body;
      return current.schedule.preflight ?? undefined;
    });
    expect(seen.ok).to.equal(false);
    expect(seen.message).to.contain('org.example.MissingMain');
    const tick = await waitFor('a tick whose check failed', async () => {
      const rows = (await h.http.get(`/api/v1/jobs/${job.id}/executions`)).body;
      return rows.find((e: { preflight: { ok: boolean } | null }) => e.preflight?.ok === false);
    });
    expect(Date.parse(tick.preflight.scheduledFor)).to.equal(Date.parse(tick.scheduledFor));
    expect(Date.parse(tick.preflight.checkedAt)).to.be.below(Date.parse(tick.scheduledFor));
    expect((await h.http.delete(`/api/v1/jobs/${job.id}/schedule`)).status).to.equal(204);
    await waitFor('the schedule to settle', () => probe.settled(job.id));
    for (const bad of [0, 1441, 'soon']) {
      const res = await h.http.post(`/api/v1/jobs/${job.id}/schedule`, { cron: '0 * * * *', preflightMinutes: bad });
      expect(res.status, String(bad)).to.equal(400);
      expect(res.body.error.details[0].field).to.equal('preflightMinutes');
    }
  });

  it('bad schedules: clear errors, nothing created', async () => {
    const job = await h.createJob(STREAMING);
    for (const [body, field] of [
      [{ action: 'pause', cron: EVERY_2S }, 'action'],
      [{ cron: EVERY_2S }, 'action'],
      [{ action: 'stop', cron: 'every day' }, 'cron'],
      [{ action: 'stop', cron: EVERY_2S, timezone: 'Mars/Olympus' }, 'timezone'],
      [{ action: 'start', cron: EVERY_2S, savepoint: false }, 'savepoint'],
      [{ action: 'savepoint', cron: EVERY_2S, restoreFrom: 'latest-savepoint' }, 'restoreFrom'],
    ] as const) {
      const res = await h.http.post(`/api/v1/jobs/${job.id}/schedules`, body);
      expect(res.status, JSON.stringify(body)).to.equal(400);
      expect(res.body.error.details[0].field, JSON.stringify(res.body)).to.equal(field);
    }
    expect((await h.http.get(`/api/v1/jobs/${job.id}/schedules`)).body).to.deep.equal([]);
    const unknownJob = await h.http.post(`/api/v1/jobs/${randomUUID()}/schedules`, { action: 'stop', cron: EVERY_2S });
    expect(unknownJob.body.error.code).to.equal('job_not_found');
    const missing = await h.http.delete(`/api/v1/jobs/${job.id}/schedules/${randomUUID()}`);
    expect(missing.body.error.code).to.equal('schedule_not_found');
  });
});
