import { expect } from 'chai';
import {
  FireScheduleTick,
  QueueSubmission,
  RequestStop,
  type CronCalendar,
  type OverlapPolicy,
  type ReplaceMode,
  type TickOutcome,
} from '../..';
import { world } from '../../testing/fakes';

/** A calendar for a per-second schedule: every whole second in the range. */
const everySecond: CronCalendar = {
  validate: () => undefined,
  nextRuns: () => [],
  runsBetween: () => [],
  latestRunsBetween: (_schedule, after, until, limit) => {
    const runs: Date[] = [];
    for (let t = Math.floor(after.getTime() / 1000) * 1000 + 1000; t <= until.getTime(); t += 1000)
      runs.push(new Date(t));
    const earlier = Math.max(0, runs.length - limit);
    return { runs: runs.slice(earlier), earlier, earlierExact: true };
  },
  around: (_schedule, at) => {
    const second = Math.ceil(at.getTime() / 1000) * 1000;
    return { previous: new Date(second - 1000), next: new Date(second === at.getTime() ? second + 1000 : second) };
  },
};

function setup(overlap: OverlapPolicy, replace: ReplaceMode | null = null, replaceWaitMs = 5000) {
  const w = world();
  const outcomes: TickOutcome[] = [];
  const submissions = new QueueSubmission(w.executions, w.queue, w.log);
  const stops = new RequestStop(w);
  const tick = new FireScheduleTick({
    ...w,
    dispatch: { submit: (e) => submissions.run(e), stop: (e, o) => stops.forExecution(e, o) },
    calendar: everySecond,
    settings: { misfireGraceMs: 60_000, replaceWaitMs },
    observer: {
      lateness: () => undefined,
      outcome: (kind, n = 1) => void outcomes.push(...Array<TickOutcome>(n).fill(kind)),
    },
  });
  // The job changed just before now, so only ticks from here on are due.
  const job = w.jobs.add({
    updatedAt: w.clock.now(),
    schedule: {
      cron: '* * * * * *',
      timezone: 'UTC',
      overlap,
      replace,
      startAt: null,
      endAt: null,
      lastRunAt: null,
      preflightMinutes: null,
      preflight: null,
    },
  });
  w.clock.advance(1000);
  return { ...w, tick, job, outcomes, at: w.clock.now() };
}

const ofJob = (t: ReturnType<typeof setup>) => [...t.executions.rows.values()].filter((e) => e.jobId === t.job.id);

describe('FireScheduleTick (on fakes, fake clock)', () => {
  it('a tick queues one execution and its submit message; delivered again, it does nothing more', async () => {
    const t = setup('allow');
    await t.tick.run(t.job.id, t.at);
    await t.tick.run(t.job.id, t.at);
    expect(ofJob(t).map((e) => e.status)).to.deep.equal(['QUEUED']);
    expect(t.queue.kinds()).to.deep.equal(['submit']);
    expect(t.outcomes).to.deep.equal(['started', 'duplicate']);
  });

  it('one round trip: the ticks after the first read nothing; a change to the job, or a tick left behind, reads it again', async () => {
    const t = setup('skip');
    let reads = 0;
    const get = t.jobs.get.bind(t.jobs);
    t.jobs.get = (id) => {
      reads++;
      return get(id);
    };
    const second = (n: number) => new Date(t.at.getTime() + n * 1000);
    for (let n = 0; n < 3; n++) {
      if (n > 0) t.clock.advance(1000);
      await t.tick.run(t.job.id, second(n));
    }
    expect(reads).to.equal(1);
    expect(ofJob(t).map((e) => e.status)).to.deep.equal(['QUEUED', 'SKIPPED', 'SKIPPED']);

    // A tick the timer dropped (second 3): the next one is not the only one due, so the plan runs it too.
    t.clock.advance(2000);
    await t.tick.run(t.job.id, second(4));
    expect(reads).to.equal(2);
    expect(ofJob(t).map((e) => e.scheduledFor?.getTime())).to.include(second(3).getTime());

    // Paused (a new version): the known job is stale, so the tick reads it and is ignored.
    const job = t.jobs.rows.get(t.job.id);
    if (!job) throw new Error('job gone');
    t.jobs.rows.set(t.job.id, { ...job, enabled: false, version: job.version + 1 });
    t.clock.advance(1000);
    await t.tick.run(t.job.id, second(5));
    expect(reads).to.equal(3);
    expect(t.outcomes.at(-1)).to.equal('ignored');
    expect(ofJob(t)).to.have.length(5);
  });

  it('skip: a tick while an execution is active is recorded SKIPPED, naming it', async () => {
    const t = setup('skip');
    const active = t.executions.put({ jobId: t.job.id, status: 'RUNNING' });
    await t.tick.run(t.job.id, t.at);
    const skipped = ofJob(t).find((e) => e.status === 'SKIPPED');
    expect(skipped?.errorMessage).to.equal(`Skipped: execution ${active.id} is still RUNNING.`);
    expect(t.queue.sent).to.deep.equal([]);
  });

  it('a paused job, or one without a schedule, ignores its timer', async () => {
    const t = setup('allow');
    t.jobs.rows.set(t.job.id, { ...t.job, enabled: false });
    await t.tick.run(t.job.id, t.at);
    expect(ofJob(t)).to.deep.equal([]);
    expect(t.outcomes).to.deep.equal(['ignored']);
  });

  it('replace (cancel): stops the running execution, waits for it to end, then queues the new one', async () => {
    const t = setup('replace', 'cancel');
    const old = t.executions.put({ jobId: t.job.id, status: 'RUNNING', submittedAt: t.clock.now() });
    // The stop worker: the old execution ends a second after the stop was asked for.
    t.clock.onSleep = async () => {
      if (t.clock.now().getTime() - t.at.getTime() >= 1000)
        await t.executions.transition(old.id, 'CANCELLED', { finishedAt: t.clock.now() }, ['STOPPING']);
    };
    await t.tick.run(t.job.id, t.at);
    expect(t.queue.kinds()).to.deep.equal(['stop', 'submit']);
    const created = ofJob(t).find((e) => e.id !== old.id);
    expect(created).to.include({ status: 'QUEUED', savepointPath: null });
    expect(t.outcomes).to.deep.equal(['started']);
  });

  it('replace (savepoint): the new execution restores from the savepoint the old one was stopped with', async () => {
    const t = setup('replace', 'savepoint');
    const old = t.executions.put({
      jobId: t.job.id,
      status: 'RUNNING',
      submittedAt: t.clock.now(),
      runRequestedAt: t.clock.now(),
    });
    t.clock.onSleep = async () => {
      await t.executions.transition(
        old.id,
        'STOPPED',
        { finishedAt: t.clock.now(), savepointLocation: 'file:///sp/7' },
        ['STOPPING'],
      );
    };
    await t.tick.run(t.job.id, t.at);
    expect(t.executions.rows.get(old.id)?.stopRequest).to.include({ savepoint: true });
    expect(ofJob(t).find((e) => e.id !== old.id)).to.include({ status: 'QUEUED', savepointPath: 'file:///sp/7' });
  });

  it('replace: an old execution still active when the wait runs out leaves the tick SKIPPED, waited on the clock', async () => {
    const t = setup('replace', 'cancel', 2000);
    t.executions.put({ jobId: t.job.id, status: 'RUNNING', submittedAt: t.clock.now() });
    await t.tick.run(t.job.id, t.at);
    const skipped = ofJob(t).find((e) => e.status === 'SKIPPED');
    expect(skipped?.errorMessage).to.match(/was still STOPPING 2 s after it was asked to cancel; no second Flink job/);
    expect(t.clock.now().getTime() - t.at.getTime()).to.equal(2000);
    expect(t.queue.kinds()).to.deep.equal(['stop']);
  });

  it('replace: the same tick delivered at once to two workers does not stop the execution the other created', async () => {
    const t = setup('replace', 'cancel');
    // The other delivery created this tick's execution after this one looked for it.
    const theirs = t.executions.put({ jobId: t.job.id, status: 'QUEUED', trigger: 'schedule', scheduledFor: t.at });
    t.executions.findTick = () => Promise.resolve(null);
    await t.tick.run(t.job.id, t.at);
    expect(t.executions.status(theirs.id)).to.equal('QUEUED');
    expect(t.queue.sent).to.deep.equal([]);
    expect(t.outcomes).to.deep.equal(['duplicate']);
  });

  it('replace: a stop that fails (back to RUNNING) leaves the tick SKIPPED with the reason', async () => {
    const t = setup('replace', 'savepoint');
    const old = t.executions.put({ jobId: t.job.id, status: 'RUNNING', submittedAt: t.clock.now() });
    t.clock.onSleep = async () => {
      await t.executions.transition(
        old.id,
        'RUNNING',
        { errorMessage: 'Stop failed: savepoint failed', stopRequest: null },
        ['STOPPING'],
      );
    };
    await t.tick.run(t.job.id, t.at);
    expect(ofJob(t).find((e) => e.status === 'SKIPPED')?.errorMessage).to.match(
      /the stop with a savepoint of execution .* failed and it is still RUNNING \(Stop failed: savepoint failed\)/,
    );
  });

  for (const status of ['CANCELLED', 'FAILED'] as const) {
    it(`replace (savepoint): the old one ending ${status} without a savepoint leaves the tick SKIPPED, nothing started`, async () => {
      const t = setup('replace', 'savepoint');
      const old = t.executions.put({
        jobId: t.job.id,
        status: 'RUNNING',
        submittedAt: t.clock.now(),
        runRequestedAt: t.clock.now(),
      });
      // The stop worker: the savepoint could not be taken, and the job ended without one.
      t.clock.onSleep = async () => {
        await t.executions.transition(
          old.id,
          status,
          { finishedAt: t.clock.now(), errorMessage: 'Savepoint failed: checkpoint coordinator shut down' },
          ['STOPPING'],
        );
      };
      await t.tick.run(t.job.id, t.at);
      const created = ofJob(t).filter((e) => e.id !== old.id);
      expect(created.map((e) => e.status)).to.deep.equal(['SKIPPED']);
      expect(created[0]?.errorMessage).to.equal(
        `Skipped: execution ${old.id} was asked to stop with a savepoint but ended ${status} without one (Savepoint failed: checkpoint coordinator shut down); the new execution would start without its state, so none is started.`,
      );
      expect(t.queue.kinds()).to.deep.equal(['stop']);
      expect(t.outcomes).to.deep.equal(['skipped']);
    });
  }

  it('replace (savepoint): an old one that FINISHED on its own, or never reached Flink, has no state to lose: started', async () => {
    for (const old of ['FINISHED', 'never ran'] as const) {
      const t = setup('replace', 'savepoint');
      const ran = old === 'FINISHED';
      const running = t.executions.put({
        jobId: t.job.id,
        status: ran ? 'RUNNING' : 'QUEUED',
        ...(ran ? { submittedAt: t.clock.now(), runRequestedAt: t.clock.now() } : {}),
      });
      t.clock.onSleep = async () => {
        if (ran) await t.executions.transition(running.id, 'FINISHED', { finishedAt: t.clock.now() }, ['STOPPING']);
      };
      await t.tick.run(t.job.id, t.at);
      const created = ofJob(t).filter((e) => e.id !== running.id);
      expect(
        created.map((e) => [e.status, e.savepointPath]),
        old,
      ).to.deep.equal([['QUEUED', null]]);
      expect(t.outcomes, old).to.deep.equal(['started']);
    }
  });

  it('replace (savepoint) with nothing running: restores from the savepoint the last run was stopped with (a delivery that came after the other one stopped it)', async () => {
    for (const last of ['STOPPED', 'CANCELLED', 'FINISHED'] as const) {
      const t = setup('replace', 'savepoint');
      t.executions.put({
        jobId: t.job.id,
        status: last,
        submittedAt: t.clock.now(),
        runRequestedAt: t.clock.now(),
        finishedAt: t.clock.now(),
        ...(last === 'STOPPED' ? { savepointLocation: 'file:///sp/left' } : {}),
      });
      // Rows of ticks that did not run come after it and carry no state.
      t.executions.put({ jobId: t.job.id, status: 'SKIPPED' });
      await t.tick.run(t.job.id, t.at);
      const created = ofJob(t).filter((e) => e.status === 'QUEUED');
      expect(
        created.map((e) => e.savepointPath),
        last,
      ).to.deep.equal([last === 'STOPPED' ? 'file:///sp/left' : null]);
    }
  });

  it('delivered 120 s late: the ticks older than the 60 s grace are MISSED, the rest run in order', async () => {
    const t = setup('allow');
    t.clock.advance(120_000);
    await t.tick.run(t.job.id, t.at);
    const count = (status: string) => ofJob(t).filter((e) => e.status === status).length;
    expect([count('MISSED'), count('QUEUED')]).to.deep.equal([60, 61]);
    expect(ofJob(t).find((e) => e.scheduledFor?.getTime() === t.at.getTime())?.errorMessage).to.equal(
      'Tick fired 120 s late (grace 60 s); not run.',
    );
    expect(t.queue.kinds()).to.have.length(61);
    expect(t.outcomes.filter((o) => o === 'missed')).to.have.length(60);
  });
});
