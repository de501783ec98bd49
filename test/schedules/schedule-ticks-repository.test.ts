import { randomUUID } from 'node:crypto';
import { connect, KnexActionScheduleRepository, KnexJobRepository, type Knex } from '@flink-orchestrator/postgres';
import { expect } from 'chai';
import { databaseUrl } from '../support/test-env';

/** The action ticks' SQL: claim once, record and last run, settle, abandon (real PostgreSQL). */
describe('action schedule ticks (real PostgreSQL): claim, record, settle, abandon', () => {
  let db: Knex;
  let jobs: KnexJobRepository;
  let schedules: KnexActionScheduleRepository;
  const created: { jobId: string; id: string }[] = [];

  before(() => {
    db = connect(databaseUrl(), { max: 4 });
    jobs = new KnexJobRepository(db);
    schedules = new KnexActionScheduleRepository(db);
  });
  // Later test files run workers on this database: they must find no schedule of ours to tick.
  after(async () => {
    for (const s of created) await schedules.delete(s.jobId, s.id);
    await db.destroy();
  });

  async function schedule() {
    const job = await jobs.create({
      name: `ticks-${randomUUID().slice(0, 8)}`,
      jarUrl: 'a.jar',
      entryClass: null,
      config: {},
      parallelism: null,
      enabled: true,
      cluster: 'default',
      admission: 'slots',
    });
    // 1 January at 00:00: never due while the suite runs.
    const row = await schedules.create({
      jobId: job.id,
      action: 'stop',
      cron: '0 0 1 1 *',
      timezone: 'UTC',
      options: {},
      startAt: null,
      endAt: null,
    });
    if (!row) throw new Error('no schedule');
    created.push({ jobId: job.id, id: row.id });
    return row;
  }
  const tickOf = async (id: string, at: Date) =>
    db('schedule_ticks').where({ schedule_id: id, scheduled_for: at }).first();
  const lastRunAt = async (id: string) => (await schedules.get(id))?.lastRunAt ?? null;

  it('a missed tick is recorded once and advances the last run the catch-up starts from; an older one does not move it back', async () => {
    const s = await schedule();
    const t2 = new Date('2030-01-01T02:00:00Z');
    const t1 = new Date('2030-01-01T01:00:00Z');
    await schedules.recordTick(s.id, t2, 'missed', 'late');
    await schedules.recordTick(s.id, t2, 'missed', 'again');
    expect(await tickOf(s.id, t2)).to.include({ outcome: 'missed', detail: 'late' });
    expect(await lastRunAt(s.id)).to.deep.equal(t2);
    await schedules.recordTick(s.id, t1, 'missed', 'older');
    expect(await lastRunAt(s.id)).to.deep.equal(t2);
    // A claim of a tick that has a row fails: nothing is run for it.
    expect(await schedules.claimTick(s.id, t2)).to.equal(false);
  });

  it('a pending tick claimed before the deadline is abandoned with why, once; newer, settled or locked ones are left', async () => {
    const s = await schedule();
    const [old, recent, settled, locked] = [1, 2, 3, 4].map((h) => new Date(`2030-02-01T0${h}:00:00Z`)) as [
      Date,
      Date,
      Date,
      Date,
    ];
    for (const at of [old, recent, settled, locked]) expect(await schedules.claimTick(s.id, at)).to.equal(true);
    await schedules.settleTick(s.id, settled, 'done', 'Stop asked.');
    // Claimed ten minutes ago by a worker that died: its claim time, as PostgreSQL stamped it.
    await db('schedule_ticks')
      .where({ schedule_id: s.id })
      .whereIn('scheduled_for', [old, settled, locked])
      .update({ recorded_at: db.raw("now() - interval '10 minutes'") });
    const deadline = new Date(Date.now() - 5 * 60_000);

    // A worker settling `locked` right now holds its row: the sweep leaves it to that worker.
    const trx = await db.transaction();
    try {
      await trx('schedule_ticks').where({ schedule_id: s.id, scheduled_for: locked }).forUpdate();
      const abandoned = await schedules.abandonPending(deadline, 'No outcome recorded.', 100);
      expect(abandoned.filter((t) => t.scheduleId === s.id).map((t) => t.scheduledFor)).to.deep.equal([old]);
    } finally {
      await trx.rollback();
    }
    expect(await tickOf(s.id, old)).to.include({ outcome: 'abandoned', detail: 'No outcome recorded.' });
    expect(await tickOf(s.id, recent)).to.include({ outcome: 'pending' });
    expect(await tickOf(s.id, settled)).to.include({ outcome: 'done', detail: 'Stop asked.' });
    // Never run again: the claim is refused, and the next sweep finds it no more.
    expect(await schedules.claimTick(s.id, old)).to.equal(false);
    const next = await schedules.abandonPending(deadline, 'No outcome recorded.', 100);
    expect(next.filter((t) => t.scheduleId === s.id).map((t) => t.scheduledFor)).to.deep.equal([locked]);

    // The worker was only slow: what the action did is recorded, saying it came after the abandonment.
    await schedules.settleTick(s.id, old, 'done', 'Stop asked of execution e1.');
    expect(await tickOf(s.id, old)).to.include({
      outcome: 'done',
      detail: 'Stop asked of execution e1. (Recorded after the tick had been abandoned.)',
    });
  });
});
