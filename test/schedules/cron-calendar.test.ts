import { CronParserCalendar } from '@flink-orchestrator/cron';
import { expect } from 'chai';

describe('CronParserCalendar.runsBetween (the catch-up of dropped ticks)', () => {
  const calendar = new CronParserCalendar();
  const everySecond = { cron: '* * * * * *', timezone: 'UTC', startAt: null };
  const at = (s: string) => new Date(`2030-01-01T00:00:${s}Z`);
  const iso = (dates: Date[]) => dates.map((d) => d.toISOString());

  it('gives the fire times strictly between the two instants', () => {
    expect(iso(calendar.runsBetween(everySecond, at('02'), at('05'), 100))).to.deep.equal([
      '2030-01-01T00:00:03.000Z',
      '2030-01-01T00:00:04.000Z',
    ]);
    expect(calendar.runsBetween(everySecond, at('04'), at('05'), 100)).to.deep.equal([]);
  });

  it('gives none before startAt, and no more than the limit', () => {
    const later = { ...everySecond, startAt: at('03') };
    expect(iso(calendar.runsBetween(later, at('00'), at('05'), 100))).to.deep.equal([
      '2030-01-01T00:00:03.000Z',
      '2030-01-01T00:00:04.000Z',
    ]);
    expect(calendar.runsBetween(everySecond, at('00'), at('50'), 3)).to.have.length(3);
  });

  it('follows the time zone across a daylight-saving change, with one parsed expression reused', () => {
    const berlin = { cron: '0 3 * * *', timezone: 'Europe/Berlin', startAt: null };
    const runs = () =>
      iso(calendar.runsBetween(berlin, new Date('2030-03-30T00:00:00Z'), new Date('2030-04-01T00:00:00Z'), 10));
    const expected = ['2030-03-30T02:00:00.000Z', '2030-03-31T01:00:00.000Z'];
    expect(runs()).to.deep.equal(expected);
    calendar.runsBetween(everySecond, at('00'), at('10'), 100); // another expression in between
    expect(runs()).to.deep.equal(expected);
  });
});

describe('CronParserCalendar.latestRunsBetween (ticks that fell due during an outage)', () => {
  const calendar = new CronParserCalendar();
  const everySecond = { cron: '* * * * * *', timezone: 'UTC', startAt: null };
  const at = (s: string) => new Date(`2030-01-01T00:${s}Z`);
  const iso = (dates: Date[]) => dates.map((d) => d.toISOString());

  it('gives the newest fire times after `after` and up to `until` included, oldest first, and counts the rest', () => {
    expect(calendar.latestRunsBetween(everySecond, at('00:02'), at('00:05'), 100)).to.deep.equal({
      runs: [at('00:03'), at('00:04'), at('00:05')],
      earlier: 0,
      earlierExact: true,
    });
    const hour = calendar.latestRunsBetween(everySecond, at('00:00'), new Date('2030-01-01T01:00:00Z'), 2);
    expect(iso(hour.runs)).to.deep.equal(['2030-01-01T00:59:59.000Z', '2030-01-01T01:00:00.000Z']);
    expect(hour).to.include({ earlier: 3598, earlierExact: true });
    expect(calendar.latestRunsBetween(everySecond, at('00:05'), at('00:05'), 10).runs).to.deep.equal([]);
  });

  it('gives none before startAt', () => {
    const later = { ...everySecond, startAt: at('00:03') };
    expect(calendar.latestRunsBetween(later, at('00:00'), at('00:05'), 2)).to.deep.equal({
      runs: [at('00:04'), at('00:05')],
      earlier: 1,
      earlierExact: true,
    });
  });

  it('estimates a count too long to walk (a week of a per-second cron) from the mean interval', () => {
    const week = calendar.latestRunsBetween(everySecond, at('00:00'), new Date('2030-01-08T00:00:00Z'), 1000);
    expect(week.runs).to.have.length(1000);
    expect(week.earlierExact).to.equal(false);
    expect(week.earlier).to.be.closeTo(7 * 86_400 - 1000, 2);
  });
});

describe('CronParserCalendar.around (the one-round-trip tick)', () => {
  const calendar = new CronParserCalendar();
  const iso = (d: Date | null) => d?.toISOString() ?? null;

  it('gives the fire times just before and just after an instant, strictly, in the time zone', () => {
    const everySecond = { cron: '* * * * * *', timezone: 'UTC', startAt: null };
    const { previous, next } = calendar.around(everySecond, new Date('2030-01-01T00:00:05Z'));
    expect([iso(previous), iso(next)]).to.deep.equal(['2030-01-01T00:00:04.000Z', '2030-01-01T00:00:06.000Z']);
    const berlin = { cron: '0 3 * * *', timezone: 'Europe/Berlin', startAt: null };
    // 03:00 Berlin is 02:00 UTC in winter, 01:00 UTC in summer: the change is between the two.
    const around = calendar.around(berlin, new Date('2030-03-31T01:00:00Z'));
    expect([iso(around.previous), iso(around.next)]).to.deep.equal([
      '2030-03-30T02:00:00.000Z',
      '2030-04-01T01:00:00.000Z',
    ]);
  });

  it('gives no previous one before startAt (a fire time at startAt counts)', () => {
    const startAt = new Date('2030-01-01T00:00:05Z');
    const schedule = { cron: '* * * * * *', timezone: 'UTC', startAt };
    expect(calendar.around(schedule, new Date('2030-01-01T00:00:05Z')).previous).to.equal(null);
    expect(iso(calendar.around(schedule, new Date('2030-01-01T00:00:06Z')).previous)).to.equal(
      '2030-01-01T00:00:05.000Z',
    );
  });
});
