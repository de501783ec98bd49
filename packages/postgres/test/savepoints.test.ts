import { randomBytes } from 'node:crypto';
import { DEFAULT_CLUSTER } from '@flink-orchestrator/domain';
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

/**
 * The savepoint repository's statements against real PostgreSQL: the idempotent begin, the
 * disposal checks, and the chore's worklists. Only this file's jobs are deleted afterwards.
 */
describe('savepoint records (real PostgreSQL)', () => {
  let db: Knex;
  let jobs: KnexJobRepository;
  let executions: KnexExecutionRepository;
  let savepoints: KnexSavepointRepository;
  const run = randomBytes(4).toString('hex');
  const jobIds: string[] = [];

  before(() => {
    db = connect(databaseUrl());
    jobs = new KnexJobRepository(db);
    executions = new KnexExecutionRepository(db);
    savepoints = new KnexSavepointRepository(db);
  });
  after(async () => {
    if (!db) return;
    if (jobIds.length > 0) await db('jobs').whereIn('id', jobIds).delete();
    await db.destroy();
  });

  /** A job with one execution, in `status`. */
  const jobWithExecution = async (status: 'QUEUED' | 'CANCELLED' = 'CANCELLED') => {
    const job = await createTestJob(jobs, `sp-${run}-${jobIds.length + 1}`);
    jobIds.push(job.id);
    const execution = await insertQueued(executions, job.id, { exclusive: false });
    if (status !== 'QUEUED') await db('job_executions').where({ id: execution.id }).update({ status });
    return { jobId: job.id, executionId: execution.id };
  };
  const completed = async (jobId: string, executionId: string, location: string, at: Date) => {
    const s = await savepoints.begin({ jobId, executionId, cluster: DEFAULT_CLUSTER, kind: 'manual', triggerId: null });
    return (await savepoints.complete(s.id, location, at))!;
  };

  it('begin: one record per (execution, trigger id), its own id as the trigger id when none is given', async () => {
    const { jobId, executionId } = await jobWithExecution();
    const fields = { jobId, executionId, cluster: DEFAULT_CLUSTER, kind: 'stop' as const, triggerId: 'ab'.repeat(16) };
    const first = await savepoints.begin(fields);
    const again = await savepoints.begin(fields);
    expect(again.id).to.equal(first.id);
    const own = await savepoints.begin({ ...fields, kind: 'manual', triggerId: null });
    expect(own.triggerId).to.equal(own.id.replace(/-/g, ''));
    expect(own.status).to.equal('IN_PROGRESS');
    // Settled once: a second outcome is not written.
    expect(await savepoints.complete(own.id, 'file:///sp/a', new Date())).to.include({ status: 'COMPLETED' });
    expect(await savepoints.fail(own.id, 'late')).to.equal(null);
    expect((await savepoints.adopt(executionId, 'file:///sp/a', 'upgrade'))?.kind).to.equal('upgrade');
  });

  it('requestDisposal: never the newest, never one an active execution restored from, not twice', async () => {
    const { jobId, executionId } = await jobWithExecution();
    const old = await completed(jobId, executionId, 'file:///sp/old', new Date('2030-01-01T00:00:00Z'));
    const used = await completed(jobId, executionId, 'file:///sp/used', new Date('2030-01-02T00:00:00Z'));
    const newest = await completed(jobId, executionId, 'file:///sp/newest', new Date('2030-01-03T00:00:00Z'));
    const at = new Date();
    await executions.insert(
      {
        jobId,
        trigger: 'manual',
        status: 'QUEUED',
        parallelism: null,
        savepointPath: used.location,
        savepointId: used.id,
        allowNonRestoredState: false,
        scheduledFor: null,
      },
      { exclusive: false },
    );
    expect((await savepoints.requestDisposal(jobId, newest.id, at)).kind).to.equal('newest');
    expect((await savepoints.requestDisposal(jobId, used.id, at)).kind).to.equal('in_use');
    expect((await savepoints.requestDisposal(jobIds[0] as string, old.id, at)).kind).to.equal('not_found');
    const asked = await savepoints.requestDisposal(jobId, old.id, at);
    expect(asked.kind).to.equal('requested');
    expect((await savepoints.requestDisposal(jobId, old.id, new Date())).kind).to.equal('requested');
    expect((await savepoints.latestRestorable(jobId))?.id).to.equal(newest.id);
    expect((await savepoints.listPendingDisposals(new Date(at.getTime() + 1), 10)).map((s) => s.id)).to.include(old.id);
    expect([...(await savepoints.inUse())]).to.include.members([used.id, used.location]);

    await savepoints.recordDisposalTrigger(old.id, 'cd'.repeat(16));
    expect((await savepoints.markDisposed(old.id, new Date()))?.disposedAt).to.be.instanceOf(Date);
    // Restorable ones of jobs with more than one: the chore's worklist.
    const restorable = (await savepoints.listRestorable(jobId)).map((s) => s.id);
    expect(restorable).to.deep.equal([newest.id, used.id]);
    expect(await savepoints.jobsWithRestorable(null, 1000)).to.include(jobId);
    const produced = await savepoints.producedBy([executionId]);
    expect(produced.get(executionId)).to.have.length(3);
  });

  it('a failed disposal clears the request and keeps the reason; pending takes are listed for a resend', async () => {
    const { jobId, executionId } = await jobWithExecution();
    const old = await completed(jobId, executionId, 'file:///sp/1', new Date('2030-01-01T00:00:00Z'));
    await completed(jobId, executionId, 'file:///sp/2', new Date('2030-01-02T00:00:00Z'));
    await savepoints.requestDisposal(jobId, old.id, new Date());
    const failed = await savepoints.recordDisposalFailure(old.id, 'permission denied');
    expect(failed).to.include({ disposal: null, disposalError: 'permission denied', disposedAt: null });

    const taking = await savepoints.begin({
      jobId,
      executionId,
      cluster: DEFAULT_CLUSTER,
      kind: 'periodic',
      triggerId: null,
    });
    const pending = await savepoints.listPendingTakes(new Date(Date.now() + 60_000), 1000);
    expect(pending.map((s) => s.id)).to.include(taking.id);
    expect(await savepoints.listPendingTakes(new Date(0), 1000)).to.deep.equal([]);
  });
});
