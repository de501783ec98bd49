import { randomBytes } from 'node:crypto';
import { ReconcileExecutions, type Execution } from '@flink-orchestrator/domain';
import { createLogger } from '@flink-orchestrator/observability';
import {
  connect,
  KnexEventStore,
  KnexExecutionRepository,
  KnexJobRepository,
  type Knex,
} from '@flink-orchestrator/postgres';
import { BullWorkQueue, jobIdFor, redisConnection, type RedisClient } from '@flink-orchestrator/queue-bullmq';
import { expect } from 'chai';
import { createTestJob, insertQueued } from './fixtures';
import { databaseUrl, REDIS_PREFIX, REDIS_URL } from '../../../test/support/test-env';

/**
 * A new QUEUED execution's `execution.queued` event is held until its submit message is known
 * to be on the queue; every crash window between the insert and the enqueue ends with the
 * event told (the execution runs) or gone with the execution (it never will). Real PostgreSQL
 * and Redis.
 */
describe('the held execution.queued event (real PostgreSQL and Redis)', () => {
  let db: Knex;
  let redis: RedisClient;
  let queue: BullWorkQueue;
  let jobs: KnexJobRepository;
  let executions: KnexExecutionRepository;
  let events: KnexEventStore;
  const run = randomBytes(4).toString('hex');
  const jobIds: string[] = [];

  before(() => {
    db = connect(databaseUrl());
    redis = redisConnection(REDIS_URL, 'producer');
    queue = new BullWorkQueue(redis, `${REDIS_PREFIX}-held`);
    jobs = new KnexJobRepository(db);
    executions = new KnexExecutionRepository(db);
    events = new KnexEventStore(db);
  });
  // An event no webhook wants is stored published, out of the relay's worklist: this file's are wanted.
  let webhookId: string;
  before(async () => {
    const [row] = await db('webhooks')
      .insert({ url: 'https://hooks.example/held', events: ['execution.*'] })
      .returning<{ id: string }[]>('id');
    webhookId = row!.id;
  });
  // Earlier files' events published, so the relay's worklist starts with this file's.
  beforeEach(() =>
    db('events').whereNull('published_at').andWhere({ held: false }).update({ published_at: db.fn.now() }),
  );
  after(async () => {
    await db('webhooks').where({ id: webhookId }).delete();
    if (jobIds.length > 0) await db('jobs').whereIn('id', jobIds).delete();
    await queue.queue.obliterate({ force: true });
    await queue.queue.close();
    redis.disconnect();
    await db.destroy();
  });

  const newJob = async () => {
    const job = await createTestJob(jobs, `held-${run}-${jobIds.length + 1}`);
    jobIds.push(job.id);
    return job;
  };
  /** What the API's start writes before it enqueues. */
  const inserted = async (jobId: string): Promise<Execution> => {
    return insertQueued(executions, jobId);
  };
  const feedOf = async (jobId: string) =>
    (await events.read({ jobId, limit: 100 })).filter((e) => e.executionId !== null).map((e) => e.type);
  const pendingOf = async (executionId: string) =>
    (await events.pending(1000, 60_000)).filter((p) => p.event.executionId === executionId);
  const rowsOf = (executionId: string) => db('events').where({ execution_id: executionId }).select('type', 'held');

  it('held from the insert: in neither the feed nor the relay worklist', async () => {
    const job = await newJob();
    const execution = await inserted(job.id);
    expect(await rowsOf(execution.id)).to.deep.equal([{ type: 'execution.queued', held: true }]);
    expect(await feedOf(job.id)).to.deep.equal([]);
    expect(await pendingOf(execution.id)).to.deep.equal([]);
  });

  it('a crash before the enqueue: the reconciler sends the message and releases the event, past a reader’s cursor', async () => {
    const job = await newJob();
    const execution = await inserted(job.id);
    // A reader has read past the inserting transaction (a later job's job.created).
    const later = await newJob();
    const [seen] = (await events.read({ jobId: later.id, limit: 10 })).slice(-1);
    const sweep = new ReconcileExecutions(executions, queue, createLogger({ level: 'silent', name: 'test' }));
    expect(await sweep.sweep()).to.be.greaterThan(0);
    expect(await queue.queue.getJob(jobIdFor({ kind: 'submit', executionId: execution.id }))).to.not.equal(undefined);
    expect(await rowsOf(execution.id)).to.deep.equal([{ type: 'execution.queued', held: false }]);
    expect(await feedOf(job.id)).to.deep.equal(['execution.queued']);
    expect(await pendingOf(execution.id)).to.have.length(1);
    const after = await events.read({ after: seen!.cursor, limit: 1000 });
    expect(after.filter((e) => e.executionId === execution.id).map((e) => e.type)).to.deep.equal(['execution.queued']);
    // Released, it is no longer the refused start's to discard: it runs.
    expect(await executions.discard(execution.id)).to.equal(false);
    expect(await executions.get(execution.id)).to.include({ status: 'QUEUED' });
    expect(await rowsOf(execution.id)).to.have.length(1);
  });

  it('a crash after the enqueue: the first status change releases it, told before its own event', async () => {
    const job = await newJob();
    const execution = await inserted(job.id);
    await executions.transition(execution.id, 'SUBMITTING', { submittingAt: new Date() });
    expect(await feedOf(job.id)).to.deep.equal(['execution.queued', 'execution.submitting']);
    expect(await executions.discard(execution.id)).to.equal(false);
    expect(await executions.get(execution.id)).to.include({ status: 'SUBMITTING' });
  });

  it('the enqueue confirmed: released; a refused one discarded: execution and event gone', async () => {
    const job = await newJob();
    const confirmed = await inserted(job.id);
    await executions.confirmQueued([confirmed.id]);
    expect(await feedOf(job.id)).to.deep.equal(['execution.queued']);
    await db('job_executions').where({ id: confirmed.id }).update({ status: 'CANCELLED', finished_at: new Date() });

    const refused = await inserted(job.id);
    expect(await executions.discard(refused.id)).to.equal(true);
    expect(await executions.get(refused.id)).to.equal(null);
    expect(await rowsOf(refused.id)).to.deep.equal([]);
    expect(await executions.discard(refused.id)).to.equal(false);
  });
});
