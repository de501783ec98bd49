import { randomBytes } from 'node:crypto';
import {
  ApplySavepointRetention,
  DEFAULT_CLUSTER,
  type Logger,
  type WorkMessage,
  type WorkQueue,
} from '@flink-orchestrator/domain';
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

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };

/** The retention chore on real PostgreSQL: every job is pruned, however many pages of jobs there are. */
describe('savepoint retention paging (real PostgreSQL)', () => {
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

  /** A job with an ended execution and `count` completed savepoints, a day apart. */
  const jobWithSavepoints = async (count: number) => {
    const job = await createTestJob(jobs, `retention-${run}-${jobIds.length + 1}`);
    jobIds.push(job.id);
    const execution = await insertQueued(executions, job.id, { exclusive: false });
    await db('job_executions').where({ id: execution.id }).update({ status: 'CANCELLED' });
    for (let i = 0; i < count; i++) {
      const s = await savepoints.begin({
        jobId: job.id,
        executionId: execution.id,
        cluster: DEFAULT_CLUSTER,
        kind: 'manual',
        triggerId: null,
      });
      await savepoints.complete(s.id, `file:///sp/${run}/${job.id}/${i}`, new Date(Date.UTC(2030, 0, 1 + i)));
    }
    return job.id;
  };

  it('prunes every job, those beyond the first page of jobs included', async () => {
    const ours = [];
    for (let i = 0; i < 5; i++) ours.push(await jobWithSavepoints(3));
    const sent: WorkMessage[] = [];
    const queue: WorkQueue = {
      enqueue: (message) => {
        sent.push(message);
        return Promise.resolve();
      },
    };
    const chore = new ApplySavepointRetention({
      jobs,
      savepoints,
      queue,
      clock: { now: () => new Date(Date.UTC(2030, 1, 1)), sleep: () => Promise.resolve() },
      log: silent,
      defaults: { keepLast: 1, maxAgeDays: 3650 },
    });
    // A page of two: three savepoints per job make each job bigger than a page on its own.
    await chore.run(2);
    for (const jobId of ours) {
      const rows = await db('savepoints').where({ job_id: jobId }).orderBy('completed_at', 'desc');
      const asked = rows.map((r: { disposal_requested_at: Date | null }) => r.disposal_requested_at !== null);
      expect(asked, `job ${ours.indexOf(jobId) + 1} of ${ours.length}`).to.deep.equal([false, true, true]);
    }
    const disposals = sent.filter((m) => m.kind === 'dispose');
    expect(disposals.length).to.be.at.least(ours.length * 2);
  });
});
