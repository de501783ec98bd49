import { expect } from 'chai';
import { assertHarnessIntegrity } from '../support/integrity';
import { PipelineHarness } from '../support/pipeline-harness';
import { ScheduleQueueProbe } from '../support/schedule-queue';
import { deleteRedisKeys, REDIS_PREFIX } from '../support/test-env';
import { waitFor } from '../support/wait';

const FINISHING = 'org.apache.flink.streaming.examples.wordcount.WordCount';
const STREAMING = 'org.apache.flink.streaming.examples.windowing.TopSpeedWindowing';

interface Row {
  id: string;
  status: string;
  trigger: string;
  scheduledFor: string;
  errorMessage: string | null;
  savepointPath: string | null;
  savepointLocation: string | null;
  flinkJobId: string | null;
  createdAt: string;
  finishedAt: string | null;
}

const ms = (iso: string | null | undefined) => (iso ? new Date(iso).getTime() : NaN);

describe('schedules firing on BullMQ job schedulers (two worker processes)', function () {
  this.timeout(180_000);
  const h = new PipelineHarness({ workers: 2, workerEnv: { RECONCILE_INTERVAL_MS: '2000' } });
  const queue = new ScheduleQueueProbe();
  before(() => h.start());
  afterEach(() => assertHarnessIntegrity(h));
  after(async () => {
    await h.stop();
    await queue.close();
  });

  async function ticks(jobId: string): Promise<Row[]> {
    const res = await h.http.get(`/api/v1/jobs/${jobId}/executions?limit=500`);
    return (res.body as Row[]).filter((e) => e.trigger === 'schedule');
  }

  /** Removes the schedule and waits until its last tick is handled: the history is then final. */
  async function unschedule(jobId: string): Promise<void> {
    expect((await h.http.delete(`/api/v1/jobs/${jobId}/schedule`)).status).to.equal(204);
    await waitFor('the timer gone and its last tick handled', () => queue.settled(jobId));
  }

  it('every second → one execution per tick, none duplicated, none left out', async () => {
    const job = await h.createJob(FINISHING);
    const res = await h.http.post(`/api/v1/jobs/${job.id}/schedule`, { cron: '* * * * * *', overlap: 'allow' });
    expect(res.status).to.equal(200);
    await waitFor('five ticks', async () => (await ticks(job.id)).length >= 5, 20_000);
    await unschedule(job.id);
    const rows = await ticks(job.id);
    const times = rows.map((r) => ms(r.scheduledFor)).sort((a, b) => a - b);
    expect(new Set(times).size, 'one execution per tick').to.equal(times.length);
    for (const t of times) expect(t % 1000).to.equal(0);
    // Ticks the timer dropped were caught up: the seconds from the first to the last are all there.
    expect(times.map((t) => (t - (times[0] as number)) / 1000)).to.deep.equal(times.map((_, i) => i));
    expect(rows.every((r) => r.status !== 'MISSED')).to.equal(true);
    // And the executions ran: the double accepted each exactly once.
    await waitFor('all ticks to finish', async () => (await ticks(job.id)).every((r) => r.status === 'FINISHED'));
  });

  it('a changed cron applies without a restart; delete stops the ticks', async () => {
    const job = await h.createJob(FINISHING);
    await h.http.post(`/api/v1/jobs/${job.id}/schedule`, { cron: '* * * * * *', overlap: 'allow' });
    await waitFor('a first tick', async () => (await ticks(job.id)).length > 0, 5000);
    const changed = await h.http.post(`/api/v1/jobs/${job.id}/schedule`, { cron: '*/2 * * * * *', overlap: 'allow' });
    // A tick of the old cron may still fire in the moment the timer is being replaced.
    const changedAt = ms(changed.body.updatedAt) + 1000;
    expect(changed.body.schedule.nextRuns.every((r: string) => new Date(r).getUTCSeconds() % 2 === 0)).to.equal(true);
    const newCron = async () => (await ticks(job.id)).filter((r) => ms(r.scheduledFor) > changedAt);
    await waitFor('two ticks on the new cron', async () => (await newCron()).length >= 2, 10_000);
    for (const r of await newCron()) expect(new Date(r.scheduledFor).getUTCSeconds() % 2, r.scheduledFor).to.equal(0);
    const deleted = await h.http.delete(`/api/v1/jobs/${job.id}/schedule`);
    expect(deleted.status).to.equal(204);
    const deletedAt = Date.now();
    // Settled means no timer and no tick in flight: the history can no longer grow.
    await waitFor('the timer gone and its last tick handled', () => queue.settled(job.id));
    const after = (await ticks(job.id)).filter((r) => ms(r.scheduledFor) > deletedAt + 1000);
    expect(after).to.deep.equal([]);
  });

  it('disabling pauses the schedule and enabling resumes it; the paused ticks were never due', async () => {
    const job = await h.createJob(FINISHING);
    await h.http.post(`/api/v1/jobs/${job.id}/schedule`, { cron: '* * * * * *', overlap: 'allow' });
    await waitFor('a first tick', async () => (await ticks(job.id)).length > 0, 5000);
    const disabled = await h.http.put(`/api/v1/jobs/${job.id}`, { enabled: false });
    await waitFor('the timer gone and its last tick handled', () => queue.settled(job.id));
    const paused = await ticks(job.id);
    // The pause lasts until the timer has been gone for a tick or two of this cron.
    await waitFor('two ticks of the pause to pass', () => Date.now() > ms(disabled.body.updatedAt) + 2500);
    const enabled = await h.http.put(`/api/v1/jobs/${job.id}`, { enabled: true });
    await waitFor('ticks to resume', async () => (await ticks(job.id)).length > paused.length, 5000);
    await unschedule(job.id);
    const pausedFrom = Math.max(...paused.map((r) => ms(r.scheduledFor)));
    const during = (await ticks(job.id)).filter(
      (r) => ms(r.scheduledFor) > pausedFrom && ms(r.scheduledFor) <= ms(enabled.body.updatedAt),
    );
    expect(during, 'no tick of the pause caught up or recorded').to.deep.equal([]);
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

  /** The executions a replace schedule started (not the SKIPPED ticks), oldest first. */
  async function replaced(jobId: string): Promise<Row[]> {
    return (await ticks(jobId)).filter((r) => r.status !== 'SKIPPED').reverse();
  }

  /** Each execution was created only after the one before it had ended on Flink. */
  function oneAtATime(rows: Row[]): void {
    for (let i = 1; i < rows.length; i++) {
      const [before, next] = [rows[i - 1] as Row, rows[i] as Row];
      expect(ms(before.finishedAt), `${before.id} ended before ${next.id} was created`).to.be.at.most(
        ms(next.createdAt),
      );
    }
  }

  it('overlap replace (cancel): each tick cancels the running execution and, once it ended, starts a new one', async () => {
    const job = await h.createJob(STREAMING);
    const set = await h.http.post(`/api/v1/jobs/${job.id}/schedule`, { cron: '*/2 * * * * *', overlap: 'replace' });
    expect(set.body.schedule).to.include({ overlap: 'replace', replace: 'cancel' });
    await waitFor('three executions', async () => (await replaced(job.id)).length >= 3, 20_000);
    await unschedule(job.id);
    const rows = await replaced(job.id);
    const newest = rows.pop();
    for (const r of rows) expect(r.status, JSON.stringify(r)).to.equal('CANCELLED');
    for (const r of rows) expect(r.savepointLocation).to.equal(null);
    expect(['QUEUED', 'SUBMITTING', 'RUNNING']).to.include(newest?.status);
    expect(newest?.savepointPath).to.equal(null);
    oneAtATime([...rows, newest as Row]);
    await h.http.post(`/api/v1/jobs/${job.id}/stop`);
  });

  it('overlap replace (savepoint): each new execution restores from the savepoint the one before was stopped with', async () => {
    const job = await h.createJob(STREAMING);
    const set = await h.http.post(`/api/v1/jobs/${job.id}/schedule`, {
      cron: '*/3 * * * * *',
      overlap: 'replace',
      replace: 'savepoint',
    });
    expect(set.body.schedule).to.include({ overlap: 'replace', replace: 'savepoint' });
    // Three, the newest of which runs on Flink: its restore is visible there.
    await waitFor(
      'three executions, the newest running',
      async () => {
        const rows = await replaced(job.id);
        return rows.length >= 3 && rows[rows.length - 1]?.status === 'RUNNING';
      },
      30_000,
    );
    await unschedule(job.id);
    const rows = await replaced(job.id);
    const newest = rows[rows.length - 1] as Row;
    for (const [i, r] of rows.slice(0, -1).entries()) {
      expect(r.status, JSON.stringify(r)).to.equal('STOPPED');
      expect(r.savepointLocation).to.match(/^file:.*savepoint-/);
      const next = rows[i + 1] as Row;
      expect(next.savepointPath, `${next.id} restores from ${r.id}'s savepoint`).to.equal(r.savepointLocation);
      if (next.flinkJobId && h.flink.job(next.flinkJobId)) {
        expect(h.flink.job(next.flinkJobId)?.savepointPath).to.equal(r.savepointLocation);
      }
    }
    expect(rows[0]?.savepointPath).to.equal(null);
    oneAtATime(rows);
    expect(h.flink.job(newest.flinkJobId as string)?.savepointPath).to.equal(rows[rows.length - 2]?.savepointLocation);
    await h.http.post(`/api/v1/jobs/${job.id}/stop`);
    await h.waitForStatus(newest.id, 'CANCELLED');
  });

  it('a schedule past its endAt fires no more ticks, and shows no next runs', async () => {
    const job = await h.createJob(FINISHING);
    const endAt = new Date(Date.now() + 2500);
    const set = await h.http.post(`/api/v1/jobs/${job.id}/schedule`, {
      cron: '* * * * * *',
      overlap: 'allow',
      endAt: endAt.toISOString(),
    });
    expect(set.status).to.equal(200);
    // BullMQ schedules no tick after endDate: once the last one is handled, the queue holds none.
    await waitFor(
      'the last tick before endAt handled',
      async () => Date.now() > endAt.getTime() && (await queue.noTickPending(job.id)),
    );
    const rows = await ticks(job.id);
    expect(rows.length).to.be.at.least(1);
    for (const r of rows) expect(ms(r.scheduledFor)).to.be.at.most(endAt.getTime());
    const shown = await h.http.get(`/api/v1/jobs/${job.id}`);
    expect(shown.body.schedule.nextRuns).to.deep.equal([]);
    const listed = (await h.http.get('/api/v1/schedules')).body.find((e: { jobId: string }) => e.jobId === job.id);
    expect(listed.nextRuns).to.deep.equal([]);
    await unschedule(job.id);
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
