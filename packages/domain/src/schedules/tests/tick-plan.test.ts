import { expect } from 'chai';
import { MAX_CATCH_UP, MAX_NOT_RUN_ROWS, planTicks, type OverlapPolicy, type TickPlanInput } from '../..';

const T0 = Date.UTC(2030, 0, 1);
const s = (seconds: number) => new Date(T0 + seconds * 1000);
const secondsOf = (dates: Date[]) => dates.map((d) => (d.getTime() - T0) / 1000);

/** A per-second schedule: the calendar gave ticks `from`..`to`, and `earlier` older ones. */
function input(fields: {
  delivered: number;
  now: number;
  due: [number, number] | null;
  earlier?: number;
  overlap?: OverlapPolicy;
  lastRunAt?: number;
  graceS?: number;
  since?: number;
}): TickPlanInput {
  const runs: Date[] = [];
  if (fields.due) for (let t = fields.due[0]; t <= fields.due[1]; t++) runs.push(s(t));
  return {
    delivered: s(fields.delivered),
    now: s(fields.now),
    misfireGraceMs: (fields.graceS ?? 60) * 1000,
    overlap: fields.overlap ?? 'allow',
    lastRunAt: fields.lastRunAt === undefined ? null : s(fields.lastRunAt),
    since: s(fields.since ?? 0),
    due: { runs, earlier: fields.earlier ?? 0, earlierExact: true },
  };
}

describe('planTicks: which due ticks run and which are recorded as not run', () => {
  it('an on-time tick runs alone', () => {
    const plan = planTicks(input({ delivered: 10, now: 10, due: [10, 10] }));
    expect(secondsOf(plan.run)).to.deep.equal([10]);
    expect(plan.notRun).to.deep.equal([]);
  });

  it('ticks the timer dropped run too, in order, when within the grace', () => {
    const plan = planTicks(input({ delivered: 13, now: 13, due: [11, 13] }));
    expect(secondsOf(plan.run)).to.deep.equal([11, 12, 13]);
  });

  it('the delivered tick counts even when the calendar did not list it', () => {
    const plan = planTicks(input({ delivered: 5, now: 6, due: [6, 6] }));
    expect(secondsOf(plan.run)).to.deep.equal([5, 6]);
  });

  it('beyond the grace: MISSED, with the reason naming how late', () => {
    const plan = planTicks(input({ delivered: 100, now: 200, due: [100, 100], graceS: 30 }));
    expect(plan.run).to.deep.equal([]);
    expect(plan.notRun).to.have.length(1);
    expect(plan.notRun[0]).to.include({ status: 'MISSED' });
    expect(plan.notRun[0]?.errorMessage).to.equal('Tick fired 100 s late (grace 30 s); not run.');
  });

  it('an outage: old ticks MISSED as not delivered, recent ones run', () => {
    const plan = planTicks(input({ delivered: 100, now: 100, due: [1, 100], graceS: 10 }));
    expect(secondsOf(plan.run)).to.deep.equal([90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100]);
    expect(plan.notRun).to.have.length(89);
    expect(plan.notRun.every((t) => t.status === 'MISSED')).to.equal(true);
    expect(plan.notRun[0]?.errorMessage).to.match(/^Tick not delivered by the timer .* noticed 99 s late/);
  });

  it(`at most ${MAX_CATCH_UP} ticks run at once; the older ones in the grace are MISSED`, () => {
    const plan = planTicks(input({ delivered: 150, now: 150, due: [1, 150], graceS: 3600 }));
    expect(plan.run).to.have.length(MAX_CATCH_UP);
    expect(secondsOf(plan.run)[0]).to.equal(51);
    expect(plan.notRun).to.have.length(50);
    expect(plan.notRun[0]?.errorMessage).to.match(/more than 100 ticks were due/);
  });

  it(`at most ${MAX_NOT_RUN_ROWS} rows; the oldest row counts the rest`, () => {
    const plan = planTicks(input({ delivered: 1100, now: 1100, due: [1, 1100], earlier: 4213, graceS: 0 }));
    expect(plan.notRun).to.have.length(MAX_NOT_RUN_ROWS);
    expect(plan.notRecorded).to.equal(99 + 4213);
    expect(plan.notRun[0]?.errorMessage).to.match(/…and 4,312 earlier ticks not recorded \(cap 1,000\)\.$/);
    expect(secondsOf(plan.notRun.map((t) => t.scheduledFor))[0]).to.equal(100);
  });

  it('an estimated count says "about"', () => {
    const base = input({ delivered: 1, now: 100, due: [1, 1], earlier: 5, graceS: 0 });
    const plan = planTicks({ ...base, due: { ...base.due, earlierExact: false } });
    expect(plan.notRun[0]?.errorMessage).to.match(/…and about 5 earlier ticks/);
  });

  it('a delivered tick older than the listed ones is taken out of the earlier count', () => {
    const plan = planTicks(input({ delivered: 3, now: 20, due: [10, 20], earlier: 9, since: 0, graceS: 0 }));
    expect(plan.notRecorded).to.equal(8);
  });

  describe('overlap replace', () => {
    it('runs only the newest due tick; the others are SKIPPED as superseded by it', () => {
      const plan = planTicks(input({ delivered: 12, now: 12, due: [10, 12], overlap: 'replace' }));
      expect(secondsOf(plan.run)).to.deep.equal([12]);
      expect(plan.notRun.map((t) => t.status)).to.deep.equal(['SKIPPED', 'SKIPPED']);
      expect(plan.notRun[0]?.errorMessage).to.contain(s(12).toISOString());
    });

    it('a tick delivered after a newer one ran runs nothing', () => {
      const plan = planTicks(input({ delivered: 10, now: 12, due: null, overlap: 'replace', lastRunAt: 11 }));
      expect(plan.run).to.deep.equal([]);
      expect(plan.notRun).to.have.length(1);
      expect(plan.notRun[0]?.errorMessage).to.contain(`superseded by the tick at ${s(11).toISOString()}`);
    });
  });
});
