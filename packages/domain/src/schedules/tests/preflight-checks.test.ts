import { expect } from 'chai';
import {
  DependencyUnavailable,
  PlanPreflights,
  RunPreflight,
  ValidationFailedOnFlink,
  type CronCalendar,
  type Job,
} from '../..';
import { world } from '../../testing/fakes';

/** A tick every hour on the hour, as a cron calendar would list it. */
const hourly: CronCalendar = {
  validate: () => undefined,
  nextRuns: (_s, from, count) => {
    const first = Math.floor(from.getTime() / 3600_000) * 3600_000 + 3600_000;
    return Array.from({ length: count }, (_, i) => new Date(first + i * 3600_000));
  },
  runsBetween: () => [],
  latestRunsBetween: () => ({ runs: [], earlier: 0, earlierExact: true }),
  around: (_s, at) => {
    const hour = Math.floor(at.getTime() / 3600_000) * 3600_000;
    return { previous: new Date(hour === at.getTime() ? hour - 3600_000 : hour), next: new Date(hour + 3600_000) };
  },
};

function setup(preflightMinutes: number | null = 5) {
  const w = world();
  const plans = new PlanPreflights({ ...w, calendar: hourly });
  let verdict: () => Promise<unknown> = () => Promise.resolve({ valid: true });
  const run = new RunPreflight({ ...w, validation: { job: () => verdict() } });
  const job = w.jobs.add({
    schedule: {
      cron: '0 * * * *',
      timezone: 'UTC',
      overlap: 'skip',
      replace: null,
      startAt: null,
      endAt: null,
      lastRunAt: null,
      preflightMinutes,
      preflight: null,
    },
  });
  const current = () => w.jobs.rows.get(job.id) as Job;
  return { ...w, plans, run, job, current, refuse: (f: () => Promise<unknown>) => (verdict = f) };
}

describe('checks before a scheduled run (on fakes)', () => {
  it('plans the check of the next tick preflightMinutes before it, once per tick', async () => {
    const t = setup(5);
    // 2030-01-01T00:00:00Z now: the next tick is 01:00, its check at 00:55.
    const next = await t.plans.planNext(t.current());
    expect(next?.toISOString()).to.equal('2030-01-01T01:00:00.000Z');
    expect(t.queue.sent).to.deep.equal([
      { message: { kind: 'preflight', jobId: t.job.id, scheduledFor: next?.getTime() }, delayMs: 55 * 60_000 },
    ]);
    // Checked already: not planned again. Within the window: at once.
    await t.run.run(t.job.id, next as Date);
    expect(await t.plans.planNext(t.current())).to.equal(null);
    t.clock.advance(58 * 60_000);
    t.queue.sent.length = 0;
    const afterTick = await t.plans.planNext(t.current(), next as Date);
    expect(afterTick?.toISOString()).to.equal('2030-01-01T02:00:00.000Z');
    expect(t.queue.sent[0]?.delayMs).to.equal(0 + 57 * 60_000);
  });

  it("records Flink's refusal with the schedule, before the tick; a passing check clears nothing of the past", async () => {
    const t = setup(10);
    const tick = new Date('2030-01-01T01:00:00Z');
    t.refuse(() =>
      Promise.reject(new ValidationFailedOnFlink('default', 'plan', "entry class 'org.example.Main' was not found")),
    );
    const failed = await t.run.run(t.job.id, tick);
    expect(failed).to.deep.include({ ok: false, scheduledFor: tick });
    expect(failed?.message).to.contain('org.example.Main');
    expect(t.current().schedule?.preflight).to.deep.equal(failed);

    // Flink out of reach is a failed check too: the run is in doubt.
    t.refuse(() => Promise.reject(new DependencyUnavailable('flink', new Error('connect ECONNREFUSED'))));
    const later = new Date('2030-01-01T02:00:00Z');
    expect(await t.run.run(t.job.id, later)).to.include({ ok: false });
    // A late check for an earlier tick does not replace the newer one.
    t.refuse(() => Promise.resolve({ valid: true }));
    await t.run.run(t.job.id, tick);
    expect(t.current().schedule?.preflight?.scheduledFor).to.deep.equal(later);
  });

  it('a schedule without preflightMinutes, or a disabled job, is never checked', async () => {
    const t = setup(null);
    expect(await t.plans.planNext(t.current())).to.equal(null);
    expect(await t.run.run(t.job.id, new Date('2030-01-01T01:00:00Z'))).to.equal(null);
    const u = setup(5);
    u.jobs.rows.set(u.job.id, { ...u.current(), enabled: false });
    expect(await u.plans.planNext(u.current())).to.equal(null);
    expect(u.queue.sent).to.deep.equal([]);
  });
});
