import { randomBytes } from 'node:crypto';
import { type ExecutionStatus } from '@flink-orchestrator/domain';
import { connect, KnexExecutionRepository, KnexJobRepository, type Knex } from '@flink-orchestrator/postgres';
import { expect } from 'chai';
import { createTestJob, insertQueued } from './fixtures';
import { databaseUrl } from '../../../test/support/test-env';

/**
 * The failure alert reads `executions_ended_total`, counted where an execution is recorded
 * ended: each end told once, by the writer whose compare-and-set won. Real PostgreSQL.
 */
describe('executions recorded ended are told once, to the ended-executions metric (real PostgreSQL)', () => {
  let db: Knex;
  let jobs: KnexJobRepository;
  const ended: ExecutionStatus[] = [];
  let executions: KnexExecutionRepository;
  const run = randomBytes(4).toString('hex');
  const jobIds: string[] = [];

  before(() => {
    db = connect(databaseUrl());
    jobs = new KnexJobRepository(db);
    executions = new KnexExecutionRepository(db, { onEnded: (status) => ended.push(status) });
  });
  after(async () => {
    if (jobIds.length > 0) await db('jobs').whereIn('id', jobIds).delete();
    await db.destroy();
  });

  const queued = async () => {
    const job = await createTestJob(jobs, `ended-${run}-${jobIds.length + 1}`);
    jobIds.push(job.id);
    return insertQueued(executions, job.id);
  };

  it('FAILED and LOST are told once each; a status on the way, or an end another writer won, is not', async () => {
    const failing = await queued();
    await executions.transition(failing.id, 'SUBMITTING', { submittingAt: new Date() });
    await executions.transition(failing.id, 'RUNNING', { startedAt: new Date() });
    expect(ended).to.deep.equal([]);
    expect(await executions.transition(failing.id, 'FAILED', { finishedAt: new Date() })).to.not.equal(null);
    // A second writer deciding the same end (the observer and a submit retry, say) loses the compare-and-set.
    expect(await executions.transition(failing.id, 'FAILED', { finishedAt: new Date() }, ['RUNNING'])).to.equal(null);
    expect(ended).to.deep.equal(['FAILED']);

    const lost = await queued();
    await executions.transition(lost.id, 'SUBMITTING', { submittingAt: new Date() });
    await executions.transition(lost.id, 'RUNNING', { startedAt: new Date() });
    await executions.transition(lost.id, 'LOST', { finishedAt: new Date() }, ['RUNNING']);
    await executions.transition(lost.id, 'LOST', { finishedAt: new Date() }, ['RUNNING']);
    expect(ended).to.deep.equal(['FAILED', 'LOST']);
  });
});
