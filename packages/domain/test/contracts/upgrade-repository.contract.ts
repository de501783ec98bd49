import { expect } from 'chai';
import type { Job, NewUpgrade, Upgrade, UpgradeRepository } from '../../src';

/**
 * What an UpgradeRepository promises: one upgrade in progress per job (a partial unique
 * index), and steps moved on by compare-and-set. Run against the fake and the knex repository.
 */
export interface UpgradeContractWorld {
  upgrades: UpgradeRepository;
  /** The same rows through a second connection. */
  otherUpgrades: UpgradeRepository;
  addJob(): Promise<Job>;
}

/** An upgrade of the job just asked for: IN_PROGRESS, validating. */
export function newUpgrade(job: Pick<Job, 'id' | 'version'>, fields: Partial<NewUpgrade> = {}): NewUpgrade {
  return {
    jobId: job.id,
    mode: 'cancel',
    changes: { jarUrl: 'v2.jar' },
    allowNonRestoredState: false,
    status: 'IN_PROGRESS',
    step: 'validating',
    steps: [],
    fromExecutionId: null,
    jobVersionBefore: job.version,
    ...fields,
  };
}

const at = new Date('2030-02-01T00:00:00Z');

export function describeUpgradeRepositoryContract(
  name: string,
  makeWorld: () => Promise<UpgradeContractWorld> | UpgradeContractWorld,
): void {
  describe(`UpgradeRepository contract: ${name}`, () => {
    let w: UpgradeContractWorld;
    beforeEach(async () => {
      w = await makeWorld();
    });

    const inProgress = async (): Promise<Upgrade> => {
      const job = await w.addJob();
      const upgrade = await w.upgrades.create(newUpgrade(job));
      if (upgrade === 'in_progress') throw new Error('in_progress');
      return upgrade;
    };

    it('one in progress per job: a second is in_progress until the first has finished', async () => {
      const job = await w.addJob();
      const first = await w.upgrades.create(newUpgrade(job));
      if (first === 'in_progress') throw new Error('in_progress');
      expect(await w.upgrades.create(newUpgrade(job))).to.equal('in_progress');
      // A finished one (a refused request is recorded FAILED at once) never blocks.
      const refused = await w.upgrades.create(newUpgrade(job, { status: 'FAILED', step: 'done', finishedAt: at }));
      expect(refused).to.not.equal('in_progress');
      await w.upgrades.advance(first.id, 'validating', { status: 'COMPLETED', step: 'done', finishedAt: at });
      const next = await w.upgrades.create(newUpgrade(job));
      expect(next).to.not.equal('in_progress');
      expect((await w.upgrades.listInProgress(1000)).filter((u) => u.jobId === job.id)).to.have.length(1);
    });

    it('advance from the current step wins once: writes the patch and appends the log entry', async () => {
      const upgrade = await inProgress();
      const log = { step: 'stopping' as const, at, detail: 'Stop asked for.' };
      const moved = await w.upgrades.advance(upgrade.id, 'validating', { step: 'stopping', stopRequestedAt: at }, log);
      expect(moved?.step).to.equal('stopping');
      expect(moved?.stopRequestedAt?.getTime()).to.equal(at.getTime());
      expect(moved?.steps).to.deep.equal([log]);
      const stored = await w.upgrades.get(upgrade.id);
      expect(stored?.step).to.equal('stopping');
      expect(stored?.steps).to.deep.equal([log]);
      // The next step's entry goes after it: the log is appended to, never replaced.
      const next = { step: 'starting' as const, at, detail: 'Stopped.' };
      const again = await w.upgrades.advance(upgrade.id, 'stopping', { step: 'starting' }, next);
      expect(again?.steps).to.deep.equal([log, next]);
      expect((await w.upgrades.get(upgrade.id))?.steps).to.deep.equal([log, next]);
    });

    it('advance from a stale step loses and changes nothing', async () => {
      const upgrade = await inProgress();
      await w.upgrades.advance(upgrade.id, 'validating', { step: 'stopping' }, { step: 'stopping', at, detail: 'a' });
      const before = await w.upgrades.get(upgrade.id);
      const stale = await w.upgrades.advance(
        upgrade.id,
        'validating',
        { step: 'starting', errorMessage: 'late', savepointLocation: 'file:///sp/late' },
        { step: 'starting', at, detail: 'b' },
      );
      expect(stale).to.equal(null);
      expect(await w.upgrades.get(upgrade.id)).to.deep.equal(before);
    });

    it('advance of a finished upgrade loses, even from its step', async () => {
      const upgrade = await inProgress();
      await w.upgrades.advance(upgrade.id, 'validating', { status: 'FAILED', errorMessage: 'invalid', finishedAt: at });
      const before = await w.upgrades.get(upgrade.id);
      expect(before?.step).to.equal('validating');
      expect(await w.upgrades.advance(upgrade.id, 'validating', { step: 'stopping' })).to.equal(null);
      expect(await w.upgrades.get(upgrade.id)).to.deep.equal(before);
    });

    it('two advances from one step at once: one wins, its patch and log alone are kept', async () => {
      const upgrade = await inProgress();
      const [a, b] = await Promise.all([
        w.upgrades.advance(upgrade.id, 'validating', { step: 'stopping' }, { step: 'stopping', at, detail: 'a' }),
        w.otherUpgrades.advance(
          upgrade.id,
          'validating',
          { status: 'FAILED', finishedAt: at },
          { step: 'failed', at, detail: 'b' },
        ),
      ]);
      const winners = [a, b].filter((u) => u !== null);
      expect(winners).to.have.length(1);
      const stored = await w.upgrades.get(upgrade.id);
      expect(stored?.steps).to.have.length(1);
      expect(stored?.steps[0]?.detail).to.equal(a ? 'a' : 'b');
      expect(stored?.status).to.equal(a ? 'IN_PROGRESS' : 'FAILED');
    });
  });
}
