import { randomBytes, randomUUID } from 'node:crypto';
import { DEFAULT_CLUSTER, type InsertOutcome } from '@flink-orchestrator/domain';
import {
  connect,
  KnexExecutionRepository,
  KnexJobRepository,
  KnexSavepointRepository,
  type Knex,
} from '@flink-orchestrator/postgres';
import { expect } from 'chai';
import { createTestJob, insertQueued } from './fixtures';
import { databaseUrl } from '../../../test/support/test-env';
import { waitFor } from '../../../test/support/wait';

/**
 * A start restoring from a savepoint and a disposal of that savepoint are one decision: one
 * of them wins, never both. Each interleaving is forced with a lock held by a third
 * connection, so the order is the test's, not the scheduler's (real PostgreSQL).
 */
describe('restore from a savepoint against its disposal (real PostgreSQL, forced interleavings)', () => {
  let db: Knex;
  let holder: Knex;
  let jobs: KnexJobRepository;
  let executions: KnexExecutionRepository;
  let savepoints: KnexSavepointRepository;
  const run = randomBytes(4).toString('hex');
  const jobIds: string[] = [];

  before(() => {
    db = connect(databaseUrl());
    holder = connect(databaseUrl());
    jobs = new KnexJobRepository(db);
    executions = new KnexExecutionRepository(db);
    savepoints = new KnexSavepointRepository(db);
  });
  after(async () => {
    if (!db) return;
    if (jobIds.length > 0) await db('jobs').whereIn('id', jobIds).delete();
    await Promise.all([db.destroy(), holder.destroy()]);
  });

  /** A job with an ended execution that took two savepoints: the older one may be disposed of. */
  const jobWithTwoSavepoints = async () => {
    const job = await createTestJob(jobs, `race-${run}-${jobIds.length + 1}`);
    jobIds.push(job.id);
    const first = await insertQueued(executions, job.id);
    await db('job_executions').where({ id: first.id }).update({ status: 'STOPPED', finished_at: new Date() });
    const take = async (n: number) => {
      const s = await savepoints.begin({
        jobId: job.id,
        executionId: first.id,
        cluster: DEFAULT_CLUSTER,
        kind: 'manual',
        triggerId: null,
      });
      return (await savepoints.complete(s.id, `file:///sp/${run}/${job.id}/${n}`, new Date(Date.UTC(2030, 0, n))))!;
    };
    const older = await take(1);
    await take(2);
    return { jobId: job.id, ended: first.id, older };
  };

  const startFrom = (jobId: string, savepoint: { id: string | null; location: string | null }, restartOf?: string) =>
    executions.insert(
      {
        jobId,
        trigger: restartOf ? 'restart' : 'manual',
        status: 'QUEUED',
        parallelism: null,
        savepointPath: savepoint.location,
        savepointId: savepoint.id,
        allowNonRestoredState: false,
        scheduledFor: null,
        restartOf: restartOf ?? null,
      },
      { exclusive: true },
    );

  /** Sessions of this database waiting on a lock. */
  const lockWaiters = async () => {
    const { rows } = await holder.raw<{ rows: { n: number }[] }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
    );
    return rows[0]?.n ?? 0;
  };

  it('a disposal that commits after the start read the savepoint (before its insert) refuses the start', async () => {
    const { jobId, older } = await jobWithTwoSavepoints();
    // The start has read the savepoint as restorable (StartExecution's read) and is now held
    // at the job row lock, as a start queued behind another request of the same job would be.
    const trx = await holder.transaction();
    await trx.raw('SELECT 1 FROM jobs WHERE id = ? FOR UPDATE', [jobId]);
    const start = startFrom(jobId, older);
    await waitFor('the start to wait on the job row', async () => ((await lockWaiters()) >= 1 ? true : undefined));
    const disposal = await savepoints.requestDisposal(jobId, older.id, new Date());
    expect(disposal.kind).to.equal('requested');
    await trx.commit();

    const outcome: InsertOutcome = await start;
    expect(outcome.kind).to.equal('savepoint_disposed');
    const active = await db('job_executions')
      .where({ job_id: jobId, status: 'QUEUED' })
      .count<{ n: string }[]>('* as n');
    expect(Number(active[0]?.n)).to.equal(0);
  });

  it('a disposal asked while a start restoring from it is being written waits for it, then finds it in use', async () => {
    const { jobId, ended, older } = await jobWithTwoSavepoints();
    // Hold the start between its savepoint lock and its commit: an uncommitted row with the
    // same restart_of makes its INSERT wait on the unique index.
    const trx = await holder.transaction();
    await trx('job_executions').insert({
      id: randomUUID(),
      job_id: jobIds[0],
      cluster: DEFAULT_CLUSTER,
      trigger: 'restart',
      status: 'CANCELLED',
      restart_of: ended,
    });
    try {
      const start = startFrom(jobId, older, ended);
      await waitFor('the start to wait on the unique index', async () =>
        (await lockWaiters()) >= 1 ? true : undefined,
      );
      let disposalSettled = false;
      const disposal = savepoints.requestDisposal(jobId, older.id, new Date()).finally(() => (disposalSettled = true));
      await waitFor('the disposal to wait on the start, or to decide', async () =>
        disposalSettled || (await lockWaiters()) >= 2 ? true : undefined,
      );
      expect(disposalSettled, 'the disposal decided while the start was undecided').to.equal(false);
      await trx.rollback();

      const outcome = await start;
      expect(outcome.kind).to.equal('created');
      const decided = await disposal;
      expect(decided.kind).to.equal('in_use');
      expect((await savepoints.get(older.id))?.disposal).to.equal(null);
    } finally {
      if (!trx.isCompleted()) await trx.rollback();
    }
  });

  it('a start from another job restoring from a savepoint by its path protects it from disposal too', async () => {
    const owner = await jobWithTwoSavepoints();
    const other = await jobWithTwoSavepoints();
    // By path alone, as `restoreFrom: <path>` gives it: no savepoint id.
    const outcome = await startFrom(other.jobId, { id: null, location: owner.older.location });
    expect(outcome.kind).to.equal('created');
    expect((await savepoints.requestDisposal(owner.jobId, owner.older.id, new Date())).kind).to.equal('in_use');
  });
});
