import { randomUUID } from 'node:crypto';
import { CronParserCalendar } from '@flink-orchestrator/cron';
import {
  FireScheduleTick,
  QueueSubmission,
  RequestStop,
  flinkJobIdFor,
  type Job,
  type ReplaceMode,
  type TickOutcome,
  type WorkMessage,
} from '@flink-orchestrator/domain';
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
  const queue = {
    enqueue: (m: WorkMessage) => {
      sent.push(m);
      return Promise.resolve();
    },
  };
  const log = createLogger({ level: 'silent', name: 'test' });
  // The fake clock runs near real time: a schedule's ticks are bounded by the job's
  // updated_at, which PostgreSQL stamps.
  let now = new Date();
  const later = (at: Date, ms: number) => new Date(at.getTime() + ms);

  before(() => {
    db = connect(databaseUrl());
    jobs = new KnexJobRepository(db);
    executions = new KnexExecutionRepository(db);
  });
  // These jobs tick every second once a worker's reconciler gives them timers (later test
  // files share the database): they leave no schedule behind.
  const scheduledIds: string[] = [];
  after(async () => {
    for (const id of scheduledIds) await jobs.setSchedule(id, null);
    await db.destroy();
  });

  /** A job on `* * * * * *`, and the first tick due after its schedule was set. */
  async function scheduledJob(
    overlap: 'skip' | 'allow' | 'replace' = 'skip',
    extra: { replace?: ReplaceMode } = {},
  ): Promise<{ job: Job; first: Date }> {
    const created = await jobs.create({
      name: `tick-${randomUUID().slice(0, 8)}`,
      jarUrl: 'a.jar',
      entryClass: null,
      config: {},
      parallelism: null,
      enabled: true,
      cluster: 'default',
      admission: 'slots',
    });
    const job = await jobs.setSchedule(created.id, {
      cron: '* * * * * *',
      timezone: 'UTC',
      overlap,
      replace: extra.replace ?? null,
      startAt: null,
      endAt: null,
    });
    if (!job) throw new Error('job vanished');
    scheduledIds.push(job.id);
    return { job, first: nextWholeSecond(job.updatedAt) };
  }

  const cursorOf = (page: { createdAt: Date; id: string }[]) => {
    const last = page[page.length - 1];
    return last ? { createdAt: last.createdAt, id: last.id } : undefined;
  };

  const nextWholeSecond = (at: Date) => new Date(Math.floor(at.getTime() / 1000) * 1000 + 1000);

  async function ticksOf(job: Job) {
    const rows = await executions.listByJob(job.id, { limit: 100 });
    return rows.map((r) => ({ at: r.scheduledFor?.toISOString(), status: r.status })).reverse();
  }

  /** What the ticks metric would count. */
  const counted = new Map<TickOutcome, number>();
  const observer = {
    lateness: () => undefined,
    outcome: (kind: TickOutcome, count = 1) => void counted.set(kind, (counted.get(kind) ?? 0) + count),
  };

  /**
   * The use case on the fake clock. Its waits go through a fake sleeper that moves the clock
   * on and then runs `onSleep`, the stand-in for the worker that stops the old execution.
   */
  function tick(
    misfireGraceMs = 60_000,
    options: { replaceWaitMs?: number; onSleep?: (ms: number) => Promise<void> } = {},
  ) {
    const fakeClock = {
      now: () => now,
      sleep: async (ms: number) => {
        now = later(now, ms);
        await options.onSleep?.(ms);
      },
    };
    const submissions = new QueueSubmission(executions, queue, log);
    const stops = new RequestStop({ jobs, executions, queue, clock: fakeClock, log });
    return new FireScheduleTick({
      jobs,
      executions,
      dispatch: { submit: (e) => submissions.run(e), stop: (e, o) => stops.forExecution(e, o) },
      calendar: new CronParserCalendar(),
      clock: fakeClock,
      log,
      settings: { misfireGraceMs, replaceWaitMs: options.replaceWaitMs ?? 0 },
      observer,
    });
  }

  /** What the submit worker would do: the execution reaches RUNNING on Flink. */
  async function running(id: string): Promise<void> {
    await executions.transition(id, 'SUBMITTING', { flinkJobId: flinkJobIdFor(id), submittingAt: now }, ['QUEUED']);
    await executions.patch(id, ['SUBMITTING'], { runRequestedAt: now });
    await executions.transition(id, 'RUNNING', { submittedAt: now, startedAt: now }, ['SUBMITTING']);
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
    now = later(first, 10);
    await tick().run(job.id, first);
    now = later(first, 1010);
    await tick().run(job.id, later(first, 1000));
    const [newest, older] = await executions.listByJob(job.id, { limit: 10 });
    expect(older?.status).to.equal('CANCELLED'); // it was still QUEUED, so it ends at once
    expect(newest?.status).to.equal('QUEUED');
  });

  describe('overlap replace on a running execution', () => {
    /** A replace job whose first tick's execution runs on Flink, and the second tick's time. */
    async function runningReplaceJob(mode?: ReplaceMode) {
      const { job, first } = await scheduledJob('replace', mode ? { replace: mode } : {});
      now = later(first, 10);
      await tick().run(job.id, first);
      const [old] = await executions.listByJob(job.id, { limit: 1 });
      if (!old) throw new Error('no execution');
      await running(old.id);
      now = later(first, 1010);
      sent.length = 0;
      counted.clear();
      return { job, old, second: later(first, 1000) };
    }

    /** The new execution must not exist while the old one is still active. */
    async function onlyTheOldActive(jobId: string, oldId: string) {
      expect((await executions.findActive(jobId)).map((e) => e.id)).to.deep.equal([oldId]);
    }

    it('"savepoint": the old one is stopped with a savepoint, and the new one restores from it once it ended', async () => {
      const { job, old, second } = await runningReplaceJob('savepoint');
      let sleeps = 0;
      await tick(60_000, {
        replaceWaitMs: 10_000,
        onSleep: async () => {
          await onlyTheOldActive(job.id, old.id);
          // The stop worker: Flink took the savepoint and the job ended.
          if (++sleeps === 3) {
            await executions.transition(
              old.id,
              'STOPPED',
              { savepointLocation: 'file:///sp/savepoint-1', flinkState: 'FINISHED', finishedAt: now },
              ['STOPPING'],
            );
          }
        },
      }).run(job.id, second);
      const stopped = await executions.get(old.id);
      expect(stopped?.status).to.equal('STOPPED');
      expect(stopped?.stopRequest?.savepoint).to.equal(true);
      const [newest] = await executions.listByJob(job.id, { limit: 1 });
      expect(newest).to.include({ status: 'QUEUED', savepointPath: 'file:///sp/savepoint-1' });
      expect(newest?.scheduledFor?.toISOString()).to.equal(second.toISOString());
      expect(sent.map((m) => m.kind)).to.deep.equal(['stop', 'submit']);
      expect(sent[1]).to.deep.equal({ kind: 'submit', executionId: newest?.id });
      expect(counted.get('started')).to.equal(1);
    });

    it('"cancel" (the default): the old one is cancelled, and the new one starts empty once it ended', async () => {
      const { job, old, second } = await runningReplaceJob();
      expect((await jobs.get(job.id))?.schedule?.replace).to.equal('cancel');
      await tick(60_000, {
        replaceWaitMs: 10_000,
        onSleep: async () => {
          await onlyTheOldActive(job.id, old.id);
          await executions.transition(old.id, 'CANCELLED', { flinkState: 'CANCELED', finishedAt: now }, ['STOPPING']);
        },
      }).run(job.id, second);
      expect((await executions.get(old.id))?.stopRequest?.savepoint).to.equal(false);
      const [newest] = await executions.listByJob(job.id, { limit: 1 });
      expect(newest).to.include({ status: 'QUEUED', savepointPath: null });
    });

    it('the old one not ended within the wait: the tick is SKIPPED with the reason, and nothing is started', async () => {
      const { job, old, second } = await runningReplaceJob('savepoint');
      const start = now.getTime();
      await tick(60_000, { replaceWaitMs: 2000, onSleep: () => onlyTheOldActive(job.id, old.id) }).run(job.id, second);
      expect(now.getTime() - start, 'waited on the clock for the whole wait').to.equal(2000);
      const [newest] = await executions.listByJob(job.id, { limit: 1 });
      expect(newest?.status).to.equal('SKIPPED');
      expect(newest?.scheduledFor?.toISOString()).to.equal(second.toISOString());
      expect(newest?.errorMessage).to.equal(
        `Skipped: execution ${old.id} was still STOPPING 2 s after it was asked to stop with a savepoint; no second Flink job is started.`,
      );
      expect(sent.map((m) => m.kind)).to.deep.equal(['stop']);
      expect(counted.get('skipped')).to.equal(1);
      expect((await executions.get(old.id))?.status).to.equal('STOPPING');
    });

    it('the savepoint stop fails (the old one is RUNNING again): SKIPPED with the reason, without waiting out the wait', async () => {
      const { job, old, second } = await runningReplaceJob('savepoint');
      let sleeps = 0;
      await tick(60_000, {
        replaceWaitMs: 60_000,
        onSleep: async () => {
          sleeps++;
          await executions.transition(
            old.id,
            'RUNNING',
            { errorMessage: 'Stop failed: Savepoint failed: disk full', stopRequest: null },
            ['STOPPING'],
          );
        },
      }).run(job.id, second);
      expect(sleeps).to.equal(1);
      const [newest] = await executions.listByJob(job.id, { limit: 1 });
      expect(newest?.status).to.equal('SKIPPED');
      expect(newest?.errorMessage).to.equal(
        `Skipped: the stop with a savepoint of execution ${old.id} failed and it is still RUNNING (Stop failed: Savepoint failed: disk full); no second Flink job is started.`,
      );
      expect((await executions.findActive(job.id)).map((e) => e.id)).to.deep.equal([old.id]);
    });

    it('"savepoint", the old one ending CANCELLED without a savepoint: SKIPPED with the reason, nothing started empty', async () => {
      const { job, old, second } = await runningReplaceJob('savepoint');
      await tick(60_000, {
        replaceWaitMs: 10_000,
        onSleep: async () => {
          // The stop worker: the savepoint failed and the job was cancelled instead.
          await executions.transition(
            old.id,
            'CANCELLED',
            { errorMessage: 'Savepoint failed: disk full', flinkState: 'CANCELED', finishedAt: now },
            ['STOPPING'],
          );
        },
      }).run(job.id, second);
      const [newest] = await executions.listByJob(job.id, { limit: 1 });
      expect(newest?.status).to.equal('SKIPPED');
      expect(newest?.scheduledFor?.toISOString()).to.equal(second.toISOString());
      expect(newest?.errorMessage).to.equal(
        `Skipped: execution ${old.id} was asked to stop with a savepoint but ended CANCELLED without one (Savepoint failed: disk full); the new execution would start without its state, so none is started.`,
      );
      expect(sent.map((m) => m.kind)).to.deep.equal(['stop']);
      expect(counted.get('skipped')).to.equal(1);
      expect(await executions.findActive(job.id)).to.deep.equal([]);
    });

    it('a tick delivered again does not stop the execution it created', async () => {
      const { job, old, second } = await runningReplaceJob('savepoint');
      const stopOld = async () => {
        await executions.transition(old.id, 'STOPPED', { savepointLocation: 'file:///sp/2', finishedAt: now }, [
          'STOPPING',
        ]);
      };
      await tick(60_000, { replaceWaitMs: 10_000, onSleep: stopOld }).run(job.id, second);
      const [created] = await executions.listByJob(job.id, { limit: 1 });
      await running(created?.id as string);
      // The worker died before BullMQ heard the tick was done: another worker gets it again
      // (before the next tick is due; one that is due may replace it, as it should).
      now = later(second, 900);
      sent.length = 0;
      await tick(60_000, { replaceWaitMs: 10_000 }).run(job.id, second);
      expect((await executions.get(created?.id as string))?.status).to.equal('RUNNING');
      expect(sent).to.deep.equal([]);
      expect(counted.get('duplicate')).to.equal(1);
    });

    it('an older tick delivered after a newer one ran is SKIPPED as superseded, and replaces nothing', async () => {
      const { job, old, second } = await runningReplaceJob('cancel');
      // `second` was taken by a worker that recorded it on the job and then stalled.
      await jobs.markScheduleRun(job.id, second);
      const newer = later(second, 1000);
      now = later(newer, 10);
      const end = async () => {
        await executions.transition(old.id, 'CANCELLED', { finishedAt: now }, ['STOPPING']);
      };
      await tick(60_000, { replaceWaitMs: 10_000, onSleep: end }).run(job.id, newer);
      const [created] = await executions.listByJob(job.id, { limit: 1 });
      expect(created?.scheduledFor?.toISOString()).to.equal(newer.toISOString());
      // Its lock expired, so BullMQ hands `second` to another worker, after the newer one ran.
      now = later(newer, 500);
      await tick(60_000, { replaceWaitMs: 10_000 }).run(job.id, second);
      expect((await executions.get(created?.id as string))?.status).to.equal('QUEUED');
      const [row] = await executions.listByJob(job.id, { limit: 1 }, 'SKIPPED');
      expect(row?.scheduledFor?.toISOString()).to.equal(second.toISOString());
      expect(row?.errorMessage).to.equal(
        `Skipped: superseded by the tick at ${newer.toISOString()} (overlap replace runs the newest due tick only).`,
      );
    });

    it('a tick delivered three times at once while the old one runs: the old one stops once, one new execution', async () => {
      const { job, old, second } = await runningReplaceJob('savepoint');
      let ended = false;
      const stopOld = async () => {
        if (ended) return;
        ended = true;
        await executions.transition(old.id, 'STOPPED', { savepointLocation: 'file:///sp/3', finishedAt: now }, [
          'STOPPING',
        ]);
      };
      const deliver = () => tick(60_000, { replaceWaitMs: 10_000, onSleep: stopOld }).run(job.id, second);
      await Promise.all([deliver(), deliver(), deliver()]);
      const rows = await executions.listByJob(job.id, { limit: 10 });
      expect(rows.map((r) => r.status)).to.deep.equal(['QUEUED', 'STOPPED']);
      expect(rows[0]?.savepointPath).to.equal('file:///sp/3');
      expect(sent.filter((m) => m.kind === 'submit')).to.have.length(1);
    });
  });

  it('a tick later than the misfire grace is recorded as MISSED, not run', async () => {
    const { job, first: at } = await scheduledJob();
    now = later(at, 61_000);
    sent.length = 0;
    await tick(60_000).run(job.id, at);
    const rows = await executions.listByJob(job.id, { limit: 100 });
    const row = rows.find((r) => r.scheduledFor?.getTime() === at.getTime());
    expect(row?.status).to.equal('MISSED');
    expect(row?.errorMessage).to.equal('Tick fired 61 s late (grace 60 s); not run.');
    expect(sent.filter((m) => 'executionId' in m && m.executionId === row?.id)).to.deep.equal([]);
  });

  it('ticks BullMQ dropped run late, in order, ahead of the delivered one, while within the grace; older ones are MISSED', async () => {
    const { job, first } = await scheduledJob('allow');
    now = later(first, 10);
    await tick(2500).run(job.id, first);
    // Delivered 5 s on: the ticks at +1 s and +2 s are older than the grace, +3 s and +4 s are not.
    now = later(first, 5010);
    sent.length = 0;
    await tick(2500).run(job.id, later(first, 5000));
    expect(await ticksOf(job)).to.deep.equal(
      [0, 1000, 2000, 3000, 4000, 5000].map((ms) => ({
        at: later(first, ms).toISOString(),
        status: ms === 1000 || ms === 2000 ? 'MISSED' : 'QUEUED',
      })),
    );
    expect(sent).to.have.length(3);
    const [, missed] = await executions.listByJob(job.id, { limit: 100, after: undefined }, 'MISSED');
    expect(missed?.errorMessage).to.equal(
      'Tick not delivered by the timer (no worker took ticks, or one was taken late); noticed 4 s late (grace 2.5 s); not run.',
    );
  });

  describe('ticks that fell due while no worker took them (an outage)', () => {
    it('the one late tick BullMQ delivers brings the ones due after it, which it never delivers: MISSED, or run within the grace', async () => {
      const { job, first } = await scheduledJob('allow');
      // BullMQ kept the first tick while no worker ran and, once it is taken, continues from now.
      now = later(first, 5010);
      counted.clear();
      await tick(2500).run(job.id, first);
      const statuses = (ms: number) => (ms <= 2000 ? 'MISSED' : 'QUEUED');
      const expected = [0, 1000, 2000, 3000, 4000, 5000].map((ms) => ({
        at: later(first, ms).toISOString(),
        status: statuses(ms),
      }));
      expect(await ticksOf(job)).to.deep.equal(expected);
      expect(counted.get('missed')).to.equal(3);
      expect(counted.get('started')).to.equal(3);
      const [row] = await executions.listByJob(job.id, { limit: 1, after: undefined }, 'MISSED');
      expect(row?.errorMessage).to.match(/^Tick not delivered by the timer/);
      // The next tick BullMQ delivers finds nothing left to do but itself.
      now = later(first, 6010);
      await tick(2500).run(job.id, later(first, 6000));
      expect(await ticksOf(job)).to.deep.equal([
        ...expected,
        { at: later(first, 6000).toISOString(), status: 'QUEUED' },
      ]);
      // Delivered again: no row twice, the metric counts a duplicate, not a second miss.
      counted.clear();
      await tick(2500).run(job.id, first);
      expect(await ticksOf(job)).to.have.length(7);
      expect(Object.fromEntries(counted)).to.deep.equal({ duplicate: 1 });
    });

    it('an hour of a per-second schedule: the newest 1,000 MISSED in one statement, the rest counted on the oldest row', async () => {
      const { job, first } = await scheduledJob('skip');
      now = later(first, 3600_000 + 10);
      counted.clear();
      let queries = 0;
      const count = () => void queries++;
      db.on('query', count);
      try {
        await tick(2000).run(job.id, first);
      } finally {
        db.off('query', count);
      }
      expect(queries, 'round trips').to.be.below(15);
      const missed = await executions.listByJob(job.id, { limit: 500 }, 'MISSED');
      const all = [
        ...missed,
        ...(await executions.listByJob(job.id, { limit: 500, after: cursorOf(missed) }, 'MISSED')),
      ];
      // Within the 2 s grace: +3599 s and +3600 s run (skip: the second is SKIPPED). Older:
      // +0 … +3598 s, 3,599 ticks, of which the newest 1,000 get a row.
      expect(all).to.have.length(1000);
      expect(counted.get('missed')).to.equal(1000);
      const times = all.map((e) => (e.scheduledFor?.getTime() ?? 0) - first.getTime());
      expect(times, 'history newest first').to.deep.equal(Array.from({ length: 1000 }, (_, i) => 3598_000 - i * 1000));
      expect(all[999]?.errorMessage).to.match(/ …and 2,599 earlier ticks not recorded \(cap 1,000\)\.$/);
      expect(all.slice(0, 999).every((e) => !e.errorMessage?.includes('earlier'))).to.equal(true);
      expect((await ticksOf(job)).slice(-2)).to.deep.equal([
        { at: later(first, 3599_000).toISOString(), status: 'QUEUED' },
        { at: later(first, 3600_000).toISOString(), status: 'SKIPPED' },
      ]);
      expect((await jobs.get(job.id))?.schedule?.lastRunAt?.toISOString()).to.equal(
        later(first, 3600_000).toISOString(),
      );
    });

    it('overlap replace records them too: MISSED beyond the grace, SKIPPED (superseded) within it but the newest', async () => {
      const { job, first } = await scheduledJob('replace');
      now = later(first, 5010);
      await tick(2500).run(job.id, first);
      expect(await ticksOf(job)).to.deep.equal(
        [0, 1000, 2000, 3000, 4000, 5000].map((ms) => ({
          at: later(first, ms).toISOString(),
          status: ms <= 2000 ? 'MISSED' : ms < 5000 ? 'SKIPPED' : 'QUEUED',
        })),
      );
      const [superseded] = await executions.listByJob(job.id, { limit: 1 }, 'SKIPPED');
      expect(superseded?.errorMessage).to.equal(
        `Skipped: superseded by the tick at ${later(first, 5000).toISOString()} (overlap replace runs the newest due tick only).`,
      );
    });

    it('past endAt: a tick is ignored, and no tick after endAt is caught up', async () => {
      const { job, first } = await scheduledJob('allow');
      // Written directly: the API would stamp updated_at, which bounds the ticks too.
      await db('jobs')
        .where({ id: job.id })
        .update({ schedule_end_at: later(first, 2500) });
      now = later(first, 6010);
      await tick(60_000).run(job.id, later(first, 6000));
      expect((await ticksOf(job)).map((t) => t.at)).to.deep.equal([]);
      await tick(60_000).run(job.id, later(first, 1000));
      expect((await ticksOf(job)).map((t) => t.at)).to.deep.equal(
        [0, 1000, 2000].map((ms) => later(first, ms).toISOString()),
      );
    });
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

  it('insertExpectedTick: written only while the job is that version and no tick was left behind; else stale, nothing written', async () => {
    const { job, first } = await scheduledJob();
    const tickAt = (at: Date) =>
      ({
        jobId: job.id,
        trigger: 'schedule',
        status: 'QUEUED',
        parallelism: null,
        savepointPath: null,
        allowNonRestoredState: false,
        scheduledFor: at,
      }) as const;
    const expectTick = (at: Date, version: number, previousTick: Date | null) =>
      executions.insertExpectedTick(tickAt(at), { skipIfActive: false, expect: { version, previousTick } });
    const lastRunAt = async () => (await jobs.get(job.id))?.schedule?.lastRunAt?.toISOString() ?? null;

    // The first tick after the schedule was set: none due before it since the change.
    expect((await expectTick(first, job.version, later(first, -1000))).kind).to.equal('created');
    // An older version: nothing written, lastRunAt untouched.
    expect((await expectTick(later(first, 1000), job.version - 1, first)).kind).to.equal('stale');
    // A tick left behind (second 1 not run when second 2 comes): stale.
    expect((await expectTick(later(first, 2000), job.version, later(first, 1000))).kind).to.equal('stale');
    expect(await lastRunAt()).to.equal(first.toISOString());
    expect((await expectTick(later(first, 1000), job.version, first)).kind).to.equal('created');
    expect((await expectTick(later(first, 1000), job.version, first)).kind).to.equal('duplicate_tick');
    expect(await lastRunAt()).to.equal(later(first, 1000).toISOString());
    expect((await ticksOf(job)).map((t) => t.at)).to.deep.equal([
      first.toISOString(),
      later(first, 1000).toISOString(),
    ]);

    await jobs.update(job.id, { enabled: false }); // a new version
    expect((await expectTick(later(first, 2000), job.version, later(first, 1000))).kind).to.equal('stale');
    const gone = await executions.insertExpectedTick(
      { ...tickAt(later(first, 2000)), jobId: randomUUID() },
      { skipIfActive: false, expect: { version: 1, previousTick: null } },
    );
    expect(gone.kind).to.equal('stale');
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
