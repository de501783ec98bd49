import { expect } from 'chai';
import { PipelineHarness } from '../support/pipeline-harness';
import { deleteRedisKeys, REDIS_PREFIX } from '../support/test-env';
import { sleep, waitFor } from '../support/wait';

const FINISHING = 'org.apache.flink.streaming.examples.wordcount.WordCount';
const STREAMING = 'org.apache.flink.streaming.examples.windowing.TopSpeedWindowing';

interface Row {
  id: string;
  status: string;
  trigger: string;
  scheduledFor: string;
  errorMessage: string | null;
}

describe('schedules firing on BullMQ job schedulers (two worker processes)', function () {
  this.timeout(180_000);
  const h = new PipelineHarness({ workers: 2, workerEnv: { RECONCILE_INTERVAL_MS: '2000' } });
  before(() => h.start());
  after(() => h.stop());

  async function ticks(jobId: string): Promise<Row[]> {
    const res = await h.http.get(`/api/v1/jobs/${jobId}/executions?limit=500`);
    return (res.body as Row[]).filter((e) => e.trigger === 'schedule');
  }

  async function unschedule(jobId: string): Promise<void> {
    expect((await h.http.delete(`/api/v1/jobs/${jobId}/schedule`)).status).to.equal(204);
  }

  it('every second for 5 s → 4 to 6 ticks, one execution each, none duplicated', async () => {
    const job = await h.createJob(FINISHING);
    const res = await h.http.post(`/api/v1/jobs/${job.id}/schedule`, { cron: '* * * * * *', overlap: 'allow' });
    expect(res.status).to.equal(200);
    await sleep(5000);
    await unschedule(job.id);
    await sleep(1500);
    const rows = await ticks(job.id);
    const times = rows.map((r) => r.scheduledFor);
    expect(new Set(times).size, 'one execution per tick').to.equal(times.length);
    expect(rows.length).to.be.within(4, 6);
    for (const t of times) expect(new Date(t).getUTCMilliseconds()).to.equal(0);
    expect(rows.every((r) => r.status !== 'MISSED')).to.equal(true);
    // And the executions ran: the double accepted each exactly once.
    await waitFor('all ticks to finish', async () => (await ticks(job.id)).every((r) => r.status === 'FINISHED'));
  });

  it('a changed cron applies without a restart; delete stops the ticks', async () => {
    const job = await h.createJob(FINISHING);
    await h.http.post(`/api/v1/jobs/${job.id}/schedule`, { cron: '* * * * * *', overlap: 'allow' });
    await waitFor('a first tick', async () => (await ticks(job.id)).length > 0, 5000);
    const changed = await h.http.post(`/api/v1/jobs/${job.id}/schedule`, { cron: '*/2 * * * * *', overlap: 'allow' });
    const changedAt = Date.now();
    expect(changed.body.schedule.nextRuns.every((r: string) => new Date(r).getUTCSeconds() % 2 === 0)).to.equal(true);
    await sleep(4500);
    const after = (await ticks(job.id)).filter((r) => new Date(r.scheduledFor).getTime() > changedAt + 1000);
    expect(after.length).to.be.within(1, 3);
    for (const r of after) expect(new Date(r.scheduledFor).getUTCSeconds() % 2, r.scheduledFor).to.equal(0);
    await unschedule(job.id);
    await sleep(1200);
    const count = (await ticks(job.id)).length;
    await sleep(2500);
    expect((await ticks(job.id)).length).to.equal(count);
  });

  it('disabling pauses the schedule and enabling resumes it', async () => {
    const job = await h.createJob(FINISHING);
    await h.http.post(`/api/v1/jobs/${job.id}/schedule`, { cron: '* * * * * *', overlap: 'allow' });
    await waitFor('a first tick', async () => (await ticks(job.id)).length > 0, 5000);
    await h.http.put(`/api/v1/jobs/${job.id}`, { enabled: false });
    await sleep(1200);
    const paused = (await ticks(job.id)).length;
    await sleep(2500);
    expect((await ticks(job.id)).length).to.equal(paused);
    await h.http.put(`/api/v1/jobs/${job.id}`, { enabled: true });
    await waitFor('ticks to resume', async () => (await ticks(job.id)).length > paused, 5000);
    await unschedule(job.id);
  });

  it('overlap skip: while an execution runs, ticks are recorded SKIPPED with the reason', async () => {
    const job = await h.createJob(STREAMING);
    await h.http.post(`/api/v1/jobs/${job.id}/schedule`, { cron: '* * * * * *' });
    await waitFor(
      'skipped ticks',
      async () => (await ticks(job.id)).filter((r) => r.status === 'SKIPPED').length >= 2,
      10_000,
    );
    await unschedule(job.id);
    const rows = await ticks(job.id);
    const running = rows.filter((r) => !['SKIPPED'].includes(r.status));
    expect(running).to.have.length(1);
    const skipped = rows.find((r) => r.status === 'SKIPPED') as Row;
    expect(skipped.errorMessage).to.match(
      new RegExp(`^Skipped: execution ${running[0]?.id} is still (QUEUED|SUBMITTING|RUNNING)\\.$`),
    );
    await h.http.post(`/api/v1/jobs/${job.id}/stop`);
    await h.waitForStatus(running[0]?.id as string, 'CANCELLED');
  });

  it('overlap replace: each tick stops the running execution, then starts a new one', async () => {
    const job = await h.createJob(STREAMING);
    await h.http.post(`/api/v1/jobs/${job.id}/schedule`, { cron: '*/2 * * * * *', overlap: 'replace' });
    await waitFor('three ticks', async () => (await ticks(job.id)).length >= 3, 15_000);
    await unschedule(job.id);
    await sleep(1000);
    const rows = await ticks(job.id);
    const [newest, ...older] = rows;
    for (const r of older) expect(r.status, JSON.stringify(r)).to.equal('CANCELLED');
    expect(['QUEUED', 'SUBMITTING', 'RUNNING']).to.include(newest?.status);
    await h.http.post(`/api/v1/jobs/${job.id}/stop`);
  });

  it('schedules come back after the Redis data is lost (our key prefix deleted)', async () => {
    const job = await h.createJob(FINISHING);
    await h.http.post(`/api/v1/jobs/${job.id}/schedule`, { cron: '* * * * * *', overlap: 'allow' });
    await waitFor('a first tick', async () => (await ticks(job.id)).length > 0, 5000);
    // What FLUSHALL would do to this deployment, without touching anybody else's keys.
    await deleteRedisKeys(REDIS_PREFIX);
    const lostAt = Date.now();
    await waitFor(
      'ticks after the flush',
      async () => (await ticks(job.id)).some((r) => new Date(r.scheduledFor).getTime() > lostAt + 1000),
      60_000,
    );
    await unschedule(job.id);
  });
});
