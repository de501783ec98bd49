import { randomUUID } from 'node:crypto';
import { CronParserCalendar } from '@flink-orchestrator/cron';
import { ExecutionControl, FireScheduleTick, type Job, type WorkMessage } from '@flink-orchestrator/domain';
import { createLogger } from '@flink-orchestrator/observability';
import { connect, KnexExecutionRepository, KnexJobRepository, type Knex } from '@flink-orchestrator/postgres';
import { expect } from 'chai';
import { databaseUrl } from '../support/test-env';

/** The tick use case against the real repositories; the queue is replaced by a recorder. */
describe('FireScheduleTick (real PostgreSQL)', () => {
  let db: Knex;
  let jobs: KnexJobRepository;
  let executions: KnexExecutionRepository;
  const sent: WorkMessage[] = [];
  const queue = { enqueue: async (m: WorkMessage) => void sent.push(m) };
  const log = createLogger({ level: 'silent', name: 'test' });
  // The fake clock runs near real time: a schedule's ticks are bounded by the job's
  // updated_at, which PostgreSQL stamps.
  let now = new Date();
  const clock = { now: () => now };
  const later = (at: Date, ms: number) => new Date(at.getTime() + ms);

  before(() => {
    db = connect(databaseUrl());
    jobs = new KnexJobRepository(db);
    executions = new KnexExecutionRepository(db);
  });
  after(() => db.destroy());

  /** A job on `* * * * * *`, and the first tick due after its schedule was set. */
  async function scheduledJob(overlap: 'skip' | 'allow' | 'replace' = 'skip'): Promise<{ job: Job; first: Date }> {
    const created = await jobs.create({
      name: `tick-${randomUUID().slice(0, 8)}`,
      jarUrl: 'a.jar',
      entryClass: null,
      config: {},
      parallelism: null,
      enabled: true,
    });
    const job = await jobs.setSchedule(created.id, {
      cron: '* * * * * *',
      timezone: 'UTC',
      overlap,
      startAt: null,
      endAt: null,
    });
    if (!job) throw new Error('job vanished');
    return { job, first: nextWholeSecond(job.updatedAt) };
  }

  const nextWholeSecond = (at: Date) => new Date(Math.floor(at.getTime() / 1000) * 1000 + 1000);

  async function ticksOf(job: Job) {
    const rows = await executions.listByJob(job.id, { limit: 100 });
    return rows.map((r) => ({ at: r.scheduledFor?.toISOString(), status: r.status })).reverse();
  }

  function tick(misfireGraceMs = 60_000) {
    const control = new ExecutionControl(jobs, executions, queue, clock, log);
    return new FireScheduleTick(jobs, executions, control, new CronParserCalendar(), clock, log, {
      misfireGraceMs,
      savepointOnReplace: false,
      replaceWaitMs: 0,
    });
  }

  it('a tick delivered three times creates one execution and one message', async () => {
    const { job, first: at } = await scheduledJob();
    now = later(at, 40);
    sent.length = 0;
    await Promise.all([tick().run(job.id, at), tick().run(job.id, at), tick().run(job.id, at)]);
    const rows = await executions.listByJob(job.id, { limit: 10 });
    expect(rows).to.have.length(1);
    expect(rows[0]).to.include({ trigger: 'schedule', status: 'QUEUED' });
    expect(rows[0]?.scheduledFor?.toISOString()).to.equal(at.toISOString());
    expect(sent).to.deep.equal([{ kind: 'submit', executionId: rows[0]?.id }]);
    expect((await jobs.get(job.id))?.schedule?.lastRunAt?.toISOString()).to.equal(at.toISOString());
  });

  it('overlap skip: a tick while an execution is active is recorded as SKIPPED with the reason', async () => {
    const { job, first } = await scheduledJob('skip');
    now = later(first, 1010);
    await tick().run(job.id, first);
    await tick().run(job.id, later(first, 1000));
    const [newest, older] = await executions.listByJob(job.id, { limit: 10 });
    expect(older?.status).to.equal('QUEUED');
    expect(newest?.status).to.equal('SKIPPED');
    expect(newest?.errorMessage).to.equal(`Skipped: execution ${older?.id} is still QUEUED.`);
    expect(newest?.finishedAt).to.be.instanceOf(Date);
  });

  it('overlap allow: a tick while an execution is active starts another', async () => {
    const { job, first } = await scheduledJob('allow');
    now = later(first, 1010);
    await tick().run(job.id, first);
    await tick().run(job.id, later(first, 1000));
    const rows = await executions.listByJob(job.id, { limit: 10 });
    expect(rows.map((r) => r.status)).to.deep.equal(['QUEUED', 'QUEUED']);
  });

  it('overlap replace: the active execution is stopped before the new one is queued', async () => {
    const { job, first } = await scheduledJob('replace');
    now = later(first, 1010);
    await tick().run(job.id, first);
    await tick().run(job.id, later(first, 1000));
    const [newest, older] = await executions.listByJob(job.id, { limit: 10 });
    expect(older?.status).to.equal('CANCELLED'); // it was still QUEUED, so it ends at once
    expect(newest?.status).to.equal('QUEUED');
  });

  it('a tick later than the misfire grace is recorded as MISSED, not run', async () => {
    const { job, first: at } = await scheduledJob();
    now = later(at, 61_000);
    sent.length = 0;
    await tick(60_000).run(job.id, at);
    const [row] = await executions.listByJob(job.id, { limit: 10 });
    expect(row?.status).to.equal('MISSED');
    expect(row?.errorMessage).to.equal('Tick fired 61 s late (grace 60 s); not run.');
    expect(sent).to.deep.equal([]);
  });

  it('ticks BullMQ dropped run late, in order, ahead of the delivered one, while within the grace', async () => {
    const { job, first } = await scheduledJob('allow');
    now = later(first, 10);
    await tick(2500).run(job.id, first);
    // Delivered 5 s on: the ticks at +1 s and +2 s are older than the grace, +3 s and +4 s are not.
    now = later(first, 5010);
    sent.length = 0;
    await tick(2500).run(job.id, later(first, 5000));
    expect(await ticksOf(job)).to.deep.equal(
      [0, 3000, 4000, 5000].map((ms) => ({ at: later(first, ms).toISOString(), status: 'QUEUED' })),
    );
    expect(sent).to.have.length(3);
  });

  it('with overlap skip, the caught-up ticks are SKIPPED behind the first', async () => {
    const { job, first } = await scheduledJob('skip');
    now = later(first, 2010);
    await tick().run(job.id, later(first, 2000));
    expect((await ticksOf(job)).map((t) => t.status)).to.deep.equal(['QUEUED', 'SKIPPED', 'SKIPPED']);
  });

  it('ticks from before the job last changed (a pause) are not caught up', async () => {
    const { job } = await scheduledJob('allow');
    const before = new Date(Math.floor(job.updatedAt.getTime() / 1000) * 1000 - 3000);
    now = later(before, 10);
    await tick().run(job.id, before);
    await jobs.update(job.id, { enabled: false });
    const resumed = await jobs.update(job.id, { enabled: true });
    const next = nextWholeSecond(resumed?.updatedAt ?? new Date());
    now = later(next, 10);
    await tick().run(job.id, next);
    expect((await ticksOf(job)).map((t) => t.at)).to.deep.equal([before.toISOString(), next.toISOString()]);
  });

  it('insertTick (values inlined into one round trip): exact times in any process time zone; no row for a deleted job', async () => {
    const { job, first } = await scheduledJob();
    const zone = process.env.TZ;
    process.env.TZ = 'America/New_York';
    try {
      const outcome = await executions.insertTick(
        {
          jobId: job.id,
          trigger: 'schedule',
          status: 'QUEUED',
          parallelism: 3,
          savepointPath: null,
          allowNonRestoredState: false,
          scheduledFor: first,
        },
        { skipIfActive: true },
      );
      expect(outcome.kind).to.equal('created');
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
    expect(await ticksOf(job)).to.deep.equal([{ at: first.toISOString(), status: 'QUEUED' }]);
    expect((await jobs.get(job.id))?.schedule?.lastRunAt?.toISOString()).to.equal(first.toISOString());
    const missing = randomUUID();
    const outcome = await executions.insertTick(
      {
        jobId: missing,
        trigger: 'schedule',
        status: 'QUEUED',
        parallelism: null,
        savepointPath: null,
        allowNonRestoredState: false,
        scheduledFor: first,
      },
      { skipIfActive: true },
    );
    expect(outcome.kind).to.equal('job_missing');
  });

  it('ticks (skip) racing manual starts of the same job leave exactly one execution active', async () => {
    const base = { trigger: 'schedule', status: 'QUEUED', parallelism: null, savepointPath: null } as const;
    for (let round = 0; round < 20; round++) {
      const { job, first } = await scheduledJob('skip');
      const outcomes = await Promise.all([
        ...[0, 1, 2, 3, 4].map((i) =>
          executions.insertTick(
            { ...base, jobId: job.id, allowNonRestoredState: false, scheduledFor: later(first, i * 1000) },
            { skipIfActive: true },
          ),
        ),
        ...[0, 1, 2, 3, 4].map(() =>
          executions.insert(
            { ...base, jobId: job.id, trigger: 'manual', allowNonRestoredState: false, scheduledFor: null },
            { exclusive: true },
          ),
        ),
      ]);
      const active = (await ticksOf(job)).filter((t) => t.status === 'QUEUED');
      expect(active, `round ${round}: ${JSON.stringify(outcomes.map((o) => o.kind))}`).to.have.length(1);
    }
  });

  it('a tick for a disabled job or a removed schedule does nothing', async () => {
    const { job } = await scheduledJob();
    await jobs.update(job.id, { enabled: false });
    await tick().run(job.id, now);
    await jobs.update(job.id, { enabled: true });
    await jobs.setSchedule(job.id, null);
    await tick().run(job.id, now);
    expect(await executions.listByJob(job.id, { limit: 10 })).to.deep.equal([]);
  });
});
