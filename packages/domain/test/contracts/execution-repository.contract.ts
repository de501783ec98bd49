import { expect } from 'chai';
import type {
  ExecutionRepository,
  InsertOutcome,
  Job,
  NewExecution,
  SavepointRepository,
  UpgradeRepository,
} from '../../src';
import { newUpgrade } from './upgrade-repository.contract';

/**
 * What an ExecutionRepository answers to inserts, as PostgreSQL's locks and unique indexes
 * decide it: run against the in-memory fake (domain tests) and the knex repository on real
 * PostgreSQL (packages/postgres), so the fake cannot drift from the SQL it stands in for.
 */
export interface ExecutionContractWorld {
  executions: ExecutionRepository;
  /** The same rows through a second connection: racing statements really race. */
  otherExecutions: ExecutionRepository;
  upgrades: UpgradeRepository;
  savepoints: SavepointRepository;
  /** A job of the case's own, on the default cluster. */
  addJob(fields?: { enabled?: boolean }): Promise<Job>;
}

const MISSING_JOB = '00000000-0000-4000-8000-000000000000';

function start(jobId: string, fields: Partial<NewExecution> = {}): NewExecution {
  return {
    jobId,
    trigger: 'manual',
    status: 'QUEUED',
    parallelism: null,
    savepointPath: null,
    allowNonRestoredState: false,
    scheduledFor: null,
    ...fields,
  };
}

function created(outcome: InsertOutcome) {
  if (outcome.kind !== 'created') throw new Error(`expected created, got ${outcome.kind}`);
  return outcome.execution;
}

const kinds = (outcomes: InsertOutcome[]) => outcomes.map((o) => o.kind).sort();

export function describeExecutionRepositoryContract(
  name: string,
  makeWorld: () => Promise<ExecutionContractWorld> | ExecutionContractWorld,
): void {
  describe(`ExecutionRepository contract: ${name}`, () => {
    let w: ExecutionContractWorld;
    beforeEach(async () => {
      w = await makeWorld();
    });

    /** An execution of the job that ran and failed: what a restart replaces. */
    const failed = async (jobId: string) => {
      const execution = created(await w.executions.insert(start(jobId), { exclusive: true }));
      const ended = await w.executions.transition(execution.id, 'FAILED', { finishedAt: new Date() });
      if (!ended) throw new Error('could not fail the execution');
      return ended;
    };

    describe('insert outcomes', () => {
      it('created: a QUEUED execution with the job definition copied on', async () => {
        const job = await w.addJob();
        const execution = created(await w.executions.insert(start(job.id), { exclusive: true }));
        expect(execution.jobId).to.equal(job.id);
        expect(execution.status).to.equal('QUEUED');
        expect(execution.definition).to.deep.include({ jarUrl: job.jarUrl, jobVersion: job.version });
        expect((await w.executions.get(execution.id))?.status).to.equal('QUEUED');
      });

      it('active: an exclusive insert while one is active names it and inserts nothing', async () => {
        const job = await w.addJob();
        const first = created(await w.executions.insert(start(job.id), { exclusive: true }));
        const second = await w.executions.insert(start(job.id), { exclusive: true });
        expect(second.kind).to.equal('active');
        expect(second.kind === 'active' && second.active.id).to.equal(first.id);
        expect((await w.executions.findActive(job.id)).map((e) => e.id)).to.deep.equal([first.id]);
      });

      it('a non-exclusive insert goes in beside an active one', async () => {
        const job = await w.addJob();
        created(await w.executions.insert(start(job.id), { exclusive: true }));
        created(await w.executions.insert(start(job.id), { exclusive: false }));
        expect(await w.executions.findActive(job.id)).to.have.length(2);
      });

      it('duplicate_tick: a second execution for the same (job, scheduledFor)', async () => {
        const job = await w.addJob();
        const scheduledFor = new Date('2030-03-01T10:00:00Z');
        const first = created(
          await w.executions.insert(start(job.id, { trigger: 'schedule', scheduledFor }), { exclusive: false }),
        );
        const again = await w.executions.insert(start(job.id, { trigger: 'schedule', scheduledFor }), {
          exclusive: false,
        });
        expect(again.kind).to.equal('duplicate_tick');
        expect((await w.executions.findTick(job.id, scheduledFor))?.id).to.equal(first.id);
      });

      it('duplicate_tick through insertTick: the tick delivered twice inserts once', async () => {
        const job = await w.addJob();
        const tick = { ...start(job.id, { trigger: 'schedule' }), scheduledFor: new Date('2030-03-01T11:00:00Z') };
        const first = created(await w.executions.insertTick(tick, { skipIfActive: false }));
        const again = await w.executions.insertTick(tick, { skipIfActive: false });
        expect(again.kind).to.equal('duplicate_tick');
        expect((await w.executions.findActive(job.id)).map((e) => e.id)).to.deep.equal([first.id]);
      });

      it('job_missing: no such job, nothing inserted', async () => {
        expect((await w.executions.insert(start(MISSING_JOB), { exclusive: true })).kind).to.equal('job_missing');
        expect(
          (await w.executions.insert(start(MISSING_JOB), { exclusive: false, requireEnabled: true })).kind,
        ).to.equal('job_missing');
        expect(await w.executions.findActive(MISSING_JOB)).to.deep.equal([]);
      });

      it('job_disabled: only with requireEnabled, and before the active check', async () => {
        const job = await w.addJob({ enabled: false });
        expect((await w.executions.insert(start(job.id), { exclusive: true, requireEnabled: true })).kind).to.equal(
          'job_disabled',
        );
        expect(await w.executions.findActive(job.id)).to.deep.equal([]);
        // Without requireEnabled a disabled job still starts (a manual start, a restart).
        created(await w.executions.insert(start(job.id), { exclusive: true }));
        expect((await w.executions.insert(start(job.id), { exclusive: true, requireEnabled: true })).kind).to.equal(
          'job_disabled',
        );
      });

      it('savepoint_disposed: a restore from a savepoint being disposed of, by id or by path, inserts nothing', async () => {
        const job = await w.addJob();
        const ended = await failed(job.id);
        const take = async (n: number) => {
          const begun = await w.savepoints.begin({
            jobId: job.id,
            executionId: ended.id,
            cluster: job.cluster,
            kind: 'manual',
            triggerId: null,
          });
          const location = `file:///sp/contract/${job.id}/${n}`;
          return (await w.savepoints.complete(begun.id, location, new Date(Date.UTC(2030, 0, n))))!;
        };
        const older = await take(1);
        const newer = await take(2);
        expect((await w.savepoints.requestDisposal(job.id, older.id, new Date())).kind).to.equal('requested');
        const byId = await w.executions.insert(
          start(job.id, { savepointPath: older.location, savepointId: older.id }),
          { exclusive: true },
        );
        expect(byId.kind).to.equal('savepoint_disposed');
        const byPath = await w.executions.insert(start(job.id, { savepointPath: older.location }), {
          exclusive: true,
        });
        expect(byPath.kind).to.equal('savepoint_disposed');
        expect(await w.executions.findActive(job.id)).to.deep.equal([]);
        // The newer one is not being disposed of: the start goes ahead.
        const fromNewer = created(
          await w.executions.insert(start(job.id, { savepointPath: newer.location, savepointId: newer.id }), {
            exclusive: true,
          }),
        );
        expect(fromNewer.savepointId).to.equal(newer.id);
        // Beside that active one, a non-exclusive restore from the older is still refused for
        // the savepoint: `active` is an exclusive insert's answer only.
        const beside = await w.executions.insert(start(job.id, { savepointPath: older.location }), {
          exclusive: false,
        });
        expect(beside.kind).to.equal('savepoint_disposed');
        expect(await w.executions.findActive(job.id)).to.have.length(1);
      });
    });

    describe('one restart per failure (job_executions_restart_of_uq)', () => {
      const restart = (jobId: string, failureId: string) =>
        start(jobId, { trigger: 'restart', restartOf: failureId, notBefore: new Date('2030-01-01T00:00:00Z') });

      it('a second restart of an ended restart maps to the existing one, not an error', async () => {
        const job = await w.addJob();
        const failure = await failed(job.id);
        const first = created(await w.executions.insert(restart(job.id, failure.id), { exclusive: true }));
        expect(first.restartOf).to.equal(failure.id);
        await w.executions.transition(first.id, 'FAILED', { finishedAt: new Date() });
        const again = await w.executions.insert(restart(job.id, failure.id), { exclusive: true });
        expect(again.kind).to.equal('duplicate_restart');
        expect(again.kind === 'duplicate_restart' && again.restart?.id).to.equal(first.id);
        expect(await w.executions.findActive(job.id)).to.deep.equal([]);
      });

      it('while the first restart is active, an exclusive second one is refused as active, naming it', async () => {
        const job = await w.addJob();
        const failure = await failed(job.id);
        const first = created(await w.executions.insert(restart(job.id, failure.id), { exclusive: true }));
        const again = await w.executions.insert(restart(job.id, failure.id), { exclusive: true });
        expect(again.kind).to.equal('active');
        expect(again.kind === 'active' && again.active.restartOf).to.equal(failure.id);
        expect(again.kind === 'active' && again.active.id).to.equal(first.id);
      });

      it('two restarts of one failure at once: one created, one duplicate_restart naming it', async () => {
        const job = await w.addJob();
        const failure = await failed(job.id);
        const outcomes = await Promise.all([
          w.executions.insert(restart(job.id, failure.id), { exclusive: false }),
          w.otherExecutions.insert(restart(job.id, failure.id), { exclusive: false }),
        ]);
        expect(kinds(outcomes)).to.deep.equal(['created', 'duplicate_restart']);
        const made = outcomes.find((o) => o.kind === 'created');
        const dup = outcomes.find((o) => o.kind === 'duplicate_restart');
        expect(dup?.kind === 'duplicate_restart' && dup.restart?.id).to.equal(
          made?.kind === 'created' && made.execution.id,
        );
        expect(await w.executions.countRestarts(job.id, new Date(0), MISSING_JOB)).to.equal(1);
      });

      it('restarts of two different failures both go in', async () => {
        const job = await w.addJob();
        const one = await failed(job.id);
        const two = await failed(job.id);
        created(await w.executions.insert(restart(job.id, one.id), { exclusive: false }));
        created(await w.executions.insert(restart(job.id, two.id), { exclusive: false }));
      });
    });

    describe('one execution per upgrade (job_executions_upgrade_uq)', () => {
      const upgraded = (jobId: string, upgradeId: string) => start(jobId, { trigger: 'upgrade', upgradeId });

      it('a second execution of an upgrade maps to the one it started, not an error', async () => {
        const job = await w.addJob();
        const upgrade = await w.upgrades.create(newUpgrade(job));
        if (upgrade === 'in_progress') throw new Error('in_progress');
        const first = created(await w.executions.insert(upgraded(job.id, upgrade.id), { exclusive: true }));
        expect(first.upgradeId).to.equal(upgrade.id);
        await w.executions.transition(first.id, 'CANCELLED', { finishedAt: new Date() });
        const again = await w.executions.insert(upgraded(job.id, upgrade.id), { exclusive: true });
        expect(again.kind).to.equal('duplicate_upgrade');
        expect(again.kind === 'duplicate_upgrade' && again.execution?.id).to.equal(first.id);
        expect(await w.executions.findActive(job.id)).to.deep.equal([]);
      });

      it('two executions of one upgrade at once: one created, one duplicate_upgrade naming it', async () => {
        const job = await w.addJob();
        const upgrade = await w.upgrades.create(newUpgrade(job));
        if (upgrade === 'in_progress') throw new Error('in_progress');
        const outcomes = await Promise.all([
          w.executions.insert(upgraded(job.id, upgrade.id), { exclusive: false }),
          w.otherExecutions.insert(upgraded(job.id, upgrade.id), { exclusive: false }),
        ]);
        expect(kinds(outcomes)).to.deep.equal(['created', 'duplicate_upgrade']);
        const made = outcomes.find((o) => o.kind === 'created');
        const dup = outcomes.find((o) => o.kind === 'duplicate_upgrade');
        expect(dup?.kind === 'duplicate_upgrade' && dup.execution?.id).to.equal(
          made?.kind === 'created' && made.execution.id,
        );
      });
    });

    describe('racing exclusive starts', () => {
      it('two exclusive inserts at once: one created, one active naming it', async () => {
        const job = await w.addJob();
        const outcomes = await Promise.all([
          w.executions.insert(start(job.id), { exclusive: true }),
          w.otherExecutions.insert(start(job.id), { exclusive: true }),
        ]);
        expect(kinds(outcomes)).to.deep.equal(['active', 'created']);
        const made = outcomes.find((o) => o.kind === 'created');
        const refused = outcomes.find((o) => o.kind === 'active');
        expect(refused?.kind === 'active' && refused.active.id).to.equal(made?.kind === 'created' && made.execution.id);
        expect(await w.executions.findActive(job.id)).to.have.length(1);
      });
    });
  });
}
