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
