import { randomBytes } from 'node:crypto';
import {
  DEFAULT_CLUSTER,
  ReconcileExecutions,
  type ExecutionStatus,
  type WorkMessage,
} from '@flink-orchestrator/domain';
import { createLogger } from '@flink-orchestrator/observability';
import { connect, KnexExecutionRepository, KnexJobRepository, type Knex } from '@flink-orchestrator/postgres';
import {
  BullWorkQueue,
  EXECUTIONS_QUEUE,
  jobIdFor,
  redisConnection,
  type RedisClient,
} from '@flink-orchestrator/queue-bullmq';
import { Worker } from 'bullmq';
import { expect } from 'chai';
import { ownDatabase } from '../support/own-database';
import { REDIS_PREFIX, REDIS_URL } from '../support/test-env';
import { waitFor } from '../support/wait';

const IDLE_MS = 30_000;

/**
 * The reconciler's sweep on real PostgreSQL and Redis: each active execution idle for a while
 * gets the message its row needs again when the queue lost it, and one whose message is
 * still there (waiting, or delayed by a backoff) keeps that one message as it was.
 */
describe('ReconcileExecutions: lost messages sent again, live ones left alone (real PostgreSQL and Redis)', () => {
  const run = randomBytes(4).toString('hex');
  let own: Awaited<ReturnType<typeof ownDatabase>>;
  let db: Knex;
  let redis: RedisClient;
  let queue: BullWorkQueue;
  let jobs: KnexJobRepository;
  let executions: KnexExecutionRepository;
  let sweep: ReconcileExecutions;
  let created = 0;

  before(async () => {
    own = await ownDatabase('reconcile');
    db = connect(own.url);
    redis = redisConnection(REDIS_URL, 'producer');
    queue = new BullWorkQueue(redis, `${REDIS_PREFIX}-reconcile`);
    jobs = new KnexJobRepository(db);
    executions = new KnexExecutionRepository(db);
    sweep = new ReconcileExecutions(executions, queue, createLogger({ level: 'silent', name: 'test' }));
  });
  after(async () => {
    await queue.queue.obliterate({ force: true });
    await queue.close();
    redis.disconnect();
    await db.destroy();
    await own.drop();
  });

  /** An execution of a job of its own, as the pipeline leaves it in `status`, last written `ageMs` ago. */
  const execution = async (status: ExecutionStatus, ageMs: number, columns: Record<string, unknown> = {}) => {
    const job = await jobs.create({
      name: `reconcile-${run}-${++created}`,
      jarUrl: 'a.jar',
      entryClass: null,
      config: {},
      parallelism: null,
      enabled: true,
      cluster: DEFAULT_CLUSTER,
      admission: 'ignore',
    });
    const outcome = await executions.insert(
      {
        jobId: job.id,
        trigger: 'manual',
        status: 'QUEUED',
        parallelism: null,
        savepointPath: null,
        allowNonRestoredState: false,
        scheduledFor: null,
      },
      { exclusive: true },
    );
    if (outcome.kind !== 'created') throw new Error(outcome.kind);
    const id = outcome.execution.id;
    await db('job_executions')
      .where({ id })
      .update({ ...(status === 'QUEUED' ? {} : { status }), ...columns, updated_at: new Date(Date.now() - ageMs) });
    return id;
  };
  const messages = async () =>
    (await queue.queue.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed', 'prioritized'])).map((j) => ({
      id: j.id,
      timestamp: j.timestamp,
      delay: j.opts.delay ?? 0,
    }));
  const idOf = (message: WorkMessage) => jobIdFor(message);

  it('sends each idle QUEUED, SUBMITTING and STOPPING row its message again; a live one is not doubled', async () => {
    const old = 5 * 60_000;
    const stopAt = new Date(Date.now() - old);
    const queued = await execution('QUEUED', old);
    const submitting = await execution('SUBMITTING', old, { submitting_at: stopAt });
    const stoppingRun = await execution('STOPPING', old, {
      submitted_at: stopAt,
      stop_requested_at: stopAt,
      stop_savepoint: false,
      stop_drain: false,
    });
    const stoppingUnsubmitted = await execution('STOPPING', old, {
      stop_requested_at: stopAt,
      stop_savepoint: false,
      stop_drain: false,
    });
    const running = await execution('RUNNING', old, { submitted_at: stopAt, started_at: stopAt });
    const recent = await execution('QUEUED', 1000);
    const live = await execution('QUEUED', old);
    const backingOff = await execution('QUEUED', old);

    // What the queue held: every message; then Redis lost all but the live two.
    const lost = [
      { kind: 'submit', executionId: queued },
      { kind: 'submit', executionId: submitting },
      { kind: 'stop', executionId: stoppingRun, requestedAt: stopAt.getTime() },
      { kind: 'submit', executionId: stoppingUnsubmitted },
    ] as const;
    for (const m of lost) await queue.enqueue(m);
    for (const m of lost) await (await queue.queue.getJob(idOf(m)))!.remove();
    await queue.enqueue({ kind: 'submit', executionId: live });
    await queue.enqueue({ kind: 'submit', executionId: backingOff }, { delayMs: 10 * 60_000 });
    const before = await messages();
    expect(before.map((m) => m.id).sort()).to.deep.equal(
      [idOf({ kind: 'submit', executionId: live }), idOf({ kind: 'submit', executionId: backingOff })].sort(),
    );

    const sent = await sweep.sweep(new Date(Date.now() - IDLE_MS));
    expect(sent, 'the idle rows with a message to send').to.equal(6);

    const after = await messages();
    const expected = [
      ...lost.map(idOf),
      idOf({ kind: 'submit', executionId: live }),
      idOf({ kind: 'submit', executionId: backingOff }),
    ];
    expect(after.map((m) => m.id).sort(), 'one message per idle row; none for RUNNING or the recent one').to.deep.equal(
      expected.sort(),
    );
    for (const id of [running, recent]) expect(after.map((m) => m.id).filter((m) => m?.includes(id))).to.deep.equal([]);
    // The live ones are the messages they were: not removed and added again, the backoff kept.
    for (const m of before) expect(after.find((a) => a.id === m.id)).to.deep.equal(m);
    expect(after.find((a) => a.id === idOf({ kind: 'submit', executionId: backingOff }))?.delay).to.equal(10 * 60_000);

    // The QUEUED ones' messages are on the queue now: their held execution.queued events are told.
    const held = await db('events').whereIn('execution_id', [queued, live, backingOff]).andWhere({ held: true });
    expect(held).to.deep.equal([]);
    expect(await db('events').where({ execution_id: recent, held: true })).to.have.length(1);

    // Swept again: every message is still there, so nothing changes.
    expect(await sweep.sweep(new Date(Date.now() - IDLE_MS))).to.equal(6);
    expect((await messages()).sort((a, b) => String(a.id).localeCompare(String(b.id)))).to.deep.equal(
      after.sort((a, b) => String(a.id).localeCompare(String(b.id))),
    );
  });

  it('a message done or failed for good while its row is still active counts as gone: sent again', async () => {
    await db('job_executions')
      .whereIn('status', ['QUEUED', 'SUBMITTING', 'RUNNING', 'STOPPING'])
      .update({ status: 'CANCELLED', finished_at: new Date() });
    await queue.queue.obliterate({ force: true });
    const done = await execution('QUEUED', 5 * 60_000);
    const failed = await execution('SUBMITTING', 5 * 60_000);
    // A worker that handled both messages, the second failing its last attempt, and the rows left as they were.
    const once = new BullWorkQueue(redis, `${REDIS_PREFIX}-reconcile`, { attempts: 1, backoffMs: 10 });
    await once.enqueue({ kind: 'submit', executionId: done });
    await once.enqueue({ kind: 'submit', executionId: failed });
    const connection = redisConnection(REDIS_URL, 'worker');
    const worker = new Worker<WorkMessage>(
      EXECUTIONS_QUEUE,
      (job) =>
        job.data.kind === 'submit' && job.data.executionId === failed
          ? Promise.reject(new Error('Flink said no'))
          : Promise.resolve(),
      { connection, prefix: `${REDIS_PREFIX}-reconcile` },
    );
    try {
      await waitFor('one message done, the other failed', async () => {
        const counts = await queue.queue.getJobCounts('completed', 'failed');
        return counts.completed === 1 && counts.failed === 1;
      });
    } finally {
      await worker.close();
      connection.disconnect();
    }

    expect(await sweep.sweep(new Date(Date.now() - IDLE_MS))).to.equal(2);
    const states = await Promise.all(
      [done, failed].map(async (id) =>
        (await queue.queue.getJob(idOf({ kind: 'submit', executionId: id })))?.getState(),
      ),
    );
    expect(states).to.deep.equal(['waiting', 'waiting']);
  });
});
