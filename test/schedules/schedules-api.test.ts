import { randomUUID } from 'node:crypto';
import type { RunningApi } from '@flink-orchestrator/api';
import { expect } from 'chai';
import { startApi } from '../support/api-process';
import { client, type Client } from '../support/http';

describe('schedules API (validation, time zones, shorthand)', () => {
  let api: RunningApi;
  let http: Client;
  before(async () => {
    api = await startApi();
    http = client(api.url);
  });
  after(() => api.close());

  const createJob = async (extra: Record<string, unknown> = {}) =>
    (await http.post('/api/v1/jobs', { name: `sched-${randomUUID().slice(0, 8)}`, jarURL: 'app.jar', ...extra })).body;

  it('POST /schedule → 200 with the schedule and its next 5 runs; setting it again replaces it', async () => {
    const job = await createJob();
    const res = await http.post(`/api/v1/jobs/${job.id}/schedule`, { cron: '0 * * * * *' });
    expect(res.status).to.equal(200);
    expect(res.body.schedule).to.include({
      cron: '0 * * * * *',
      timezone: 'UTC',
      overlap: 'skip',
      replace: null,
      startAt: null,
      endAt: null,
      lastRunAt: null,
      paused: false,
    });
    const runs = res.body.schedule.nextRuns.map((r: string) => new Date(r));
    expect(runs).to.have.length(5);
    for (const [i, run] of runs.entries()) {
      expect(run.getUTCSeconds()).to.equal(0);
      if (i > 0) expect(run.getTime() - runs[i - 1].getTime()).to.equal(60_000);
    }
    const replaced = await http.post(`/api/v1/jobs/${job.id}/schedule`, { cron: '*/15 * * * *', overlap: 'allow' });
    expect(replaced.body.schedule).to.include({ cron: '*/15 * * * *', overlap: 'allow' });
    expect((await http.get(`/api/v1/jobs/${job.id}`)).body.schedule.cron).to.equal('*/15 * * * *');
  });

  it('honours the time zone: 09:00 in New York in July is 13:00 UTC', async () => {
    // July of a year to come, whenever this runs: New York keeps daylight saving time then.
    const year = new Date().getUTCFullYear() + 1;
    const job = await createJob();
    const res = await http.post(`/api/v1/jobs/${job.id}/schedule`, {
      cron: '0 9 * * *',
      timezone: 'America/New_York',
      startAt: `${year}-07-01T00:00:00Z`,
      endAt: `${year}-07-03T00:00:00Z`,
    });
    expect(res.status).to.equal(200);
    expect(res.body.schedule.nextRuns).to.deep.equal([`${year}-07-01T13:00:00.000Z`, `${year}-07-02T13:00:00.000Z`]);
    expect(res.body.schedule.startAt).to.equal(`${year}-07-01T00:00:00.000Z`);
  });

  it('overlap replace: "replace" is "cancel" unless "savepoint" is asked for; PUT scheduleCron keeps it', async () => {
    const job = await createJob();
    const cancel = await http.post(`/api/v1/jobs/${job.id}/schedule`, { cron: '0 * * * *', overlap: 'replace' });
    expect(cancel.status).to.equal(200);
    expect(cancel.body.schedule).to.include({ overlap: 'replace', replace: 'cancel' });
    const savepoint = await http.post(`/api/v1/jobs/${job.id}/schedule`, {
      cron: '0 * * * *',
      overlap: 'replace',
      replace: 'savepoint',
    });
    expect(savepoint.body.schedule).to.include({ overlap: 'replace', replace: 'savepoint' });
    expect((await http.get(`/api/v1/jobs/${job.id}`)).body.schedule.replace).to.equal('savepoint');
    const put = await http.put(`/api/v1/jobs/${job.id}`, { scheduleCron: '30 * * * *' });
    expect(put.body.schedule).to.include({ cron: '30 * * * *', overlap: 'replace', replace: 'savepoint' });
    const list = await http.get('/api/v1/schedules');
    expect(list.body.find((e: { jobId: string }) => e.jobId === job.id)).to.include({ replace: 'savepoint' });
    // Back to skip: the replace mode goes with it.
    const skip = await http.post(`/api/v1/jobs/${job.id}/schedule`, { cron: '0 * * * *', overlap: 'skip' });
    expect(skip.body.schedule).to.include({ overlap: 'skip', replace: null });
  });

  it('a schedule past its endAt shows no next runs', async () => {
    const job = await createJob();
    const now = Date.now();
    const res = await http.post(`/api/v1/jobs/${job.id}/schedule`, {
      cron: '* * * * * *',
      startAt: new Date(now - 3600_000).toISOString(),
      endAt: new Date(now - 60_000).toISOString(),
    });
    expect(res.status).to.equal(200);
    expect(res.body.schedule.nextRuns).to.deep.equal([]);
    expect((await http.get(`/api/v1/jobs/${job.id}`)).body.schedule.nextRuns).to.deep.equal([]);
  });

  it('refuses bad expressions, zones and windows with 400 naming the field, and keeps the old schedule', async () => {
    const job = await createJob();
    await http.post(`/api/v1/jobs/${job.id}/schedule`, { cron: '0 0 * * *' });
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ cron: 'every minute' }, 'cron', /expected 5 .* or 6/],
      [{ cron: '61 * * * *' }, 'cron', /not a valid cron expression/],
      [{ cron: '* * * * * * *' }, 'cron', /7 field/],
      [{ cron: '' }, 'cron', /empty/],
      [{ cron: 5 }, 'cron', /string/],
      [{}, 'cron', /required/],
      [{ cron: '* * * * *', timezone: 'Mars/Olympus' }, 'timezone', /IANA time zone/],
      [{ cron: '* * * * *', overlap: 'queue' }, 'overlap', /must be one of/],
      [{ cron: '* * * * *', overlap: 'replace', replace: 'drain' }, 'replace', /must be one of \[savepoint, cancel\]/],
      [
        { cron: '* * * * *', overlap: 'skip', replace: 'cancel' },
        'replace',
        /"replace" applies only with "overlap": "replace"/,
      ],
      [{ cron: '* * * * *', replace: 'savepoint' }, 'replace', /"replace" applies only with "overlap": "replace"/],
      [{ cron: '* * * * *', startAt: 'tomorrow' }, 'startAt', /ISO/],
      [
        { cron: '* * * * *', startAt: '2030-01-02T00:00:00Z', endAt: '2030-01-01T00:00:00Z' },
        'endAt',
        /later than startAt/,
      ],
      [{ cron: '* * * * *', extra: true }, 'extra', /not allowed/],
    ];
    for (const [body, field, message] of cases) {
      const res = await http.post(`/api/v1/jobs/${job.id}/schedule`, body);
      expect(res.status, JSON.stringify(body)).to.equal(400);
      expect(res.body.error.code).to.equal('validation_failed');
      expect(res.body.error.details[0].field, JSON.stringify(body)).to.equal(field);
      expect(res.body.error.message, JSON.stringify(body)).to.match(message);
    }
    expect((await http.get(`/api/v1/jobs/${job.id}`)).body.schedule.cron).to.equal('0 0 * * *');
  });

  it('DELETE /schedule → 204, also when there is none; unknown job → 404', async () => {
    const job = await createJob({ scheduleCron: '0 * * * *' });
    expect(job.schedule.cron).to.equal('0 * * * *');
    expect((await http.delete(`/api/v1/jobs/${job.id}/schedule`)).status).to.equal(204);
    expect((await http.get(`/api/v1/jobs/${job.id}`)).body.schedule).to.equal(null);
    expect((await http.delete(`/api/v1/jobs/${job.id}/schedule`)).status).to.equal(204);
    expect((await http.delete(`/api/v1/jobs/${randomUUID()}/schedule`)).status).to.equal(404);
    expect((await http.post(`/api/v1/jobs/${randomUUID()}/schedule`, { cron: '* * * * *' })).status).to.equal(404);
  });

  it('scheduleCron on PUT sets or changes the schedule; disabling pauses it; GET /schedules lists it', async () => {
    const job = await createJob();
    const put = await http.put(`/api/v1/jobs/${job.id}`, { scheduleCron: '30 2 * * *' });
    expect(put.body.schedule).to.include({ cron: '30 2 * * *', paused: false });
    const disabled = await http.put(`/api/v1/jobs/${job.id}`, { enabled: false });
    expect(disabled.body.schedule).to.include({ paused: true });
    expect(disabled.body.schedule.nextRuns).to.deep.equal([]);
    const list = await http.get('/api/v1/schedules');
    const entry = list.body.find((s: { jobId: string }) => s.jobId === job.id);
    expect(entry).to.include({ jobName: job.name, cron: '30 2 * * *', paused: true });
  });
});
