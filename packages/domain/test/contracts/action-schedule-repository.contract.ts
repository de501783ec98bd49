import { expect } from 'chai';
import type { ActionSchedule, ActionScheduleRepository, Job, ScheduleTick } from '../../src';

/**
 * What an ActionScheduleRepository promises about ticks: claimed once (the primary key of
 * schedule_ticks), the schedule's last run advanced and never moved back, settled once, and
 * stale pending claims abandoned. Run against the fake and the knex repository.
 */
export interface ActionScheduleContractWorld {
  schedules: ActionScheduleRepository;
  /** The same rows through a second connection. */
  otherSchedules: ActionScheduleRepository;
  addJob(): Promise<Job>;
  /** The repository's own clock: what a tick's recordedAt is taken from. */
  now(): Date;
  /** Moves the tick's recordedAt `ms` into the past: a claim made that long ago. */
  backdate(scheduleId: string, scheduledFor: Date, ms: number): Promise<void>;
}

const T1 = new Date('2030-04-01T10:00:00Z');
const T2 = new Date('2030-04-01T11:00:00Z');
const T3 = new Date('2030-04-01T12:00:00Z');
const MINUTE = 60_000;
// Claims are aged by days and swept with a cut days back: the sweep is global, and a real
// database holds the pending ticks of other tests, claimed minutes ago.
const DAY = 24 * 60 * MINUTE;

export function describeActionScheduleRepositoryContract(
  name: string,
  makeWorld: () => Promise<ActionScheduleContractWorld> | ActionScheduleContractWorld,
): void {
  describe(`ActionScheduleRepository contract: ${name}`, () => {
    let w: ActionScheduleContractWorld;
    beforeEach(async () => {
      w = await makeWorld();
    });

    const schedule = async (): Promise<ActionSchedule> => {
      const job = await w.addJob();
      const created = await w.schedules.create({
        jobId: job.id,
        action: 'savepoint',
        cron: '0 * * * *',
        timezone: 'UTC',
        options: {},
        startAt: null,
        endAt: null,
      });
      if (!created) throw new Error('no schedule');
      return created;
    };
    const ticks = async (id: string): Promise<ScheduleTick[]> =>
      (await w.schedules.recentTicks([id], 100)).get(id) ?? [];
    const tick = async (id: string, at: Date) =>
      (await ticks(id)).find((t) => t.scheduledFor.getTime() === at.getTime());
    const lastRunAt = async (id: string) => (await w.schedules.get(id))?.lastRunAt?.getTime() ?? null;

    describe('claimTick', () => {
      it('claims once: pending, and the last run advanced to it', async () => {
        const s = await schedule();
        expect(await w.schedules.claimTick(s.id, T2)).to.equal(true);
        expect(await w.schedules.claimTick(s.id, T2)).to.equal(false);
        expect(await tick(s.id, T2)).to.deep.include({ outcome: 'pending', detail: null });
        expect(await lastRunAt(s.id)).to.equal(T2.getTime());
      });

      it('an older tick claimed late does not move the last run back', async () => {
        const s = await schedule();
        await w.schedules.claimTick(s.id, T2);
        expect(await w.schedules.claimTick(s.id, T1)).to.equal(true);
        expect(await lastRunAt(s.id)).to.equal(T2.getTime());
      });

      it('a tick recorded as not run cannot be claimed: it keeps its record', async () => {
        const s = await schedule();
        await w.schedules.recordTick(s.id, T3, 'missed', 'Too late.');
        await w.schedules.claimTick(s.id, T1);
        expect(await w.schedules.claimTick(s.id, T3)).to.equal(false);
        expect(await tick(s.id, T3)).to.deep.include({ outcome: 'missed' });
      });

      it('the same tick claimed four times at once, through two connections: one winner', async () => {
        const s = await schedule();
        const claims = await Promise.all([
          w.schedules.claimTick(s.id, T1),
          w.otherSchedules.claimTick(s.id, T1),
          w.schedules.claimTick(s.id, T1),
          w.otherSchedules.claimTick(s.id, T1),
        ]);
        expect(claims.filter(Boolean)).to.have.length(1);
        expect(await ticks(s.id)).to.have.length(1);
      });
    });

    describe('recordTick', () => {
      it('records a tick not run, and advances the last run', async () => {
        const s = await schedule();
        await w.schedules.recordTick(s.id, T2, 'missed', 'Too late.');
        expect(await tick(s.id, T2)).to.deep.include({ outcome: 'missed', detail: 'Too late.' });
        expect(await lastRunAt(s.id)).to.equal(T2.getTime());
      });

      it('a tick with a record keeps it: a claimed one stays pending', async () => {
        const s = await schedule();
        await w.schedules.claimTick(s.id, T2);
        await w.schedules.recordTick(s.id, T2, 'missed', 'Too late.');
        expect(await tick(s.id, T2)).to.deep.include({ outcome: 'pending', detail: null });
        expect(await w.schedules.claimTick(s.id, T2)).to.equal(false);
      });
    });

    describe('settleTick', () => {
      it('settles a pending tick with its outcome and detail', async () => {
        const s = await schedule();
        await w.schedules.claimTick(s.id, T1);
        await w.schedules.settleTick(s.id, T1, 'done', 'Savepoint taken.');
        expect(await tick(s.id, T1)).to.deep.include({ outcome: 'done', detail: 'Savepoint taken.' });
      });

      it('a settled tick keeps its first outcome', async () => {
        const s = await schedule();
        await w.schedules.claimTick(s.id, T1);
        await w.schedules.settleTick(s.id, T1, 'done', 'Savepoint taken.');
        await w.schedules.settleTick(s.id, T1, 'failed', 'Again.');
        expect(await tick(s.id, T1)).to.deep.include({ outcome: 'done', detail: 'Savepoint taken.' });
      });

      it('a tick never claimed is not created by a settle', async () => {
        const s = await schedule();
        await w.schedules.settleTick(s.id, T1, 'done', 'Savepoint taken.');
        expect(await ticks(s.id)).to.deep.equal([]);
      });

      it('an abandoned tick takes the outcome, its detail saying it came after the abandonment', async () => {
        const s = await schedule();
        await w.schedules.claimTick(s.id, T1);
        await w.backdate(s.id, T1, 10 * DAY);
        await w.schedules.abandonPending(new Date(w.now().getTime() - 5 * DAY), 'Abandoned.', 10);
        await w.schedules.settleTick(s.id, T1, 'done', 'Savepoint taken.');
        expect(await tick(s.id, T1)).to.deep.include({
          outcome: 'done',
          detail: 'Savepoint taken. (Recorded after the tick had been abandoned.)',
        });
      });
    });

    describe('abandonPending', () => {
      it('settles as abandoned the pending ticks claimed before the cut, oldest first, up to the limit', async () => {
        const s = await schedule();
        for (const at of [T1, T2, T3]) await w.schedules.claimTick(s.id, at);
        await w.schedules.recordTick(s.id, new Date(T3.getTime() + MINUTE), 'missed', 'Too late.');
        await w.backdate(s.id, T2, 30 * DAY);
        await w.backdate(s.id, T1, 20 * DAY);
        // T3: claimed just now, a worker may still be running it.
        const cut = new Date(w.now().getTime() - 5 * DAY);
        const first = await w.schedules.abandonPending(cut, 'Abandoned: no outcome.', 1);
        expect(first.map((t) => [t.scheduledFor.getTime(), t.outcome, t.detail])).to.deep.equal([
          [T2.getTime(), 'abandoned', 'Abandoned: no outcome.'],
        ]);
        const rest = await w.schedules.abandonPending(cut, 'Abandoned: no outcome.', 10);
        expect(rest.map((t) => t.scheduledFor.getTime())).to.deep.equal([T1.getTime()]);
        expect(await w.schedules.abandonPending(cut, 'Abandoned: no outcome.', 10)).to.deep.equal([]);
        const outcomes = (await ticks(s.id)).map((t) => t.outcome);
        // recentTicks: newest first.
        expect(outcomes).to.deep.equal(['missed', 'pending', 'abandoned', 'abandoned']);
      });

      it('a settled tick is never abandoned, however old', async () => {
        const s = await schedule();
        await w.schedules.claimTick(s.id, T1);
        await w.schedules.settleTick(s.id, T1, 'failed', 'No job running.');
        await w.backdate(s.id, T1, 60 * DAY);
        const abandoned = await w.schedules.abandonPending(new Date(w.now().getTime() - DAY), 'Abandoned.', 10);
        expect(abandoned.filter((t) => t.scheduleId === s.id)).to.deep.equal([]);
        expect(await tick(s.id, T1)).to.deep.include({ outcome: 'failed', detail: 'No job running.' });
      });

      it('two abandon sweeps at once settle each stale tick once', async () => {
        const s = await schedule();
        for (const at of [T1, T2, T3]) {
          await w.schedules.claimTick(s.id, at);
          await w.backdate(s.id, at, 10 * DAY);
        }
        const cut = new Date(w.now().getTime() - 5 * DAY);
        const [a, b] = await Promise.all([
          w.schedules.abandonPending(cut, 'Abandoned.', 10),
          w.otherSchedules.abandonPending(cut, 'Abandoned.', 10),
        ]);
        const mine = [...a, ...b].filter((t) => t.scheduleId === s.id).map((t) => t.scheduledFor.getTime());
        expect(mine.sort()).to.deep.equal([T1.getTime(), T2.getTime(), T3.getTime()]);
      });
    });
  });
}
