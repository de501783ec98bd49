import { randomUUID } from 'node:crypto';
import { QueueSubmission, StartExecution, type Job, type WorkMessage } from '@flink-orchestrator/domain';
import { createLogger } from '@flink-orchestrator/observability';
import {
  connect,
  KnexExecutionRepository,
  KnexJobRepository,
  KnexSavepointRepository,
  type Knex,
} from '@flink-orchestrator/postgres';
import { expect } from 'chai';
import { databaseUrl } from '../support/test-env';

/** Every way an execution is created copies the job's definition from the job row (real PostgreSQL). */
describe('execution definitions are recorded when an execution is created', () => {
  let db: Knex;
  let jobs: KnexJobRepository;
  let executions: KnexExecutionRepository;
  const queue = { enqueue: (_m: WorkMessage) => Promise.resolve() };
  const log = createLogger({ level: 'silent', name: 'test' });

  before(() => {
    db = connect(databaseUrl());
    jobs = new KnexJobRepository(db);
    executions = new KnexExecutionRepository(db);
  });
  after(() => db.destroy());

  async function newJob(): Promise<Job> {
    const job = await jobs.create({
      name: `definition-${randomUUID().slice(0, 8)}`,
      jarUrl: 'first.jar',
      entryClass: 'com.example.First',
      config: { b: 2, a: 'one', flag: true },
      parallelism: 3,
      enabled: true,
      cluster: 'default',
      admission: 'slots',
    });
    // Version 2, so the snapshot's version is not the default.
    return (await jobs.update(job.id, { jarUrl: 'second.jar' })) as Job;
  }

  it('a manual start: the job row as it is, with the start overriding parallelism only when asked', async () => {
    const job = await newJob();
    const starts = new StartExecution(
      jobs,
      executions,
      new QueueSubmission(executions, queue, log),
      new KnexSavepointRepository(db),
    );
    const plain = await starts.run(job.id);
    expect(plain.definition).to.deep.equal({
      jarUrl: 'second.jar',
      entryClass: 'com.example.First',
      config: { b: 2, a: 'one', flag: true },
      jobVersion: 2,
    });
    expect(plain.parallelism).to.equal(3);
    await executions.transition(plain.id, 'CANCELLED', { finishedAt: new Date() });
    const overridden = await starts.run(job.id, { parallelism: 7, savepointPath: 'file:///sp/1' });
    expect(overridden).to.include({ parallelism: 7, savepointPath: 'file:///sp/1' });
    expect(overridden.definition?.jobVersion).to.equal(2);
    expect((await executions.get(overridden.id))?.definition).to.deep.equal(plain.definition);
  });

  it('a schedule tick: QUEUED carries the definition, SKIPPED and MISSED carry none', async () => {
    const job = await newJob();
    const at = (s: number) => new Date(Date.UTC(2030, 0, 1, 0, 0, s));
    const tick = { jobId: job.id, trigger: 'schedule', parallelism: null, savepointPath: null } as const;
    const first = await executions.insertTick(
      { ...tick, status: 'QUEUED', allowNonRestoredState: false, scheduledFor: at(1) },
      { skipIfActive: true },
    );
    const skipped = await executions.insertTick(
      { ...tick, status: 'QUEUED', allowNonRestoredState: false, scheduledFor: at(2) },
      { skipIfActive: true },
    );
    const missed = await executions.insert(
      { ...tick, status: 'MISSED', allowNonRestoredState: false, scheduledFor: at(3), errorMessage: 'late' },
      { exclusive: false },
    );
    if (first.kind !== 'created' || skipped.kind !== 'created' || missed.kind !== 'created') expect.fail('not created');
    expect(first.execution.status).to.equal('QUEUED');
    expect(first.execution.parallelism).to.equal(3);
    expect(first.execution.definition).to.deep.equal({
      jarUrl: 'second.jar',
      entryClass: 'com.example.First',
      config: { b: 2, a: 'one', flag: true },
      jobVersion: 2,
    });
    expect(skipped.execution.status).to.equal('SKIPPED');
    expect(skipped.execution.definition).to.equal(null);
    expect(missed.execution.definition).to.equal(null);

    // A later tick takes the job as it is then.
    await executions.transition(first.execution.id, 'CANCELLED', { finishedAt: new Date() });
    await jobs.update(job.id, { entryClass: null, config: {}, parallelism: null });
    const later = await executions.insertTick(
      { ...tick, status: 'QUEUED', allowNonRestoredState: false, scheduledFor: at(4) },
      { skipIfActive: true },
    );
    if (later.kind !== 'created') expect.fail('not created');
    expect(later.execution.parallelism).to.equal(null);
    expect(later.execution.definition).to.deep.equal({
      jarUrl: 'second.jar',
      entryClass: null,
      config: {},
      jobVersion: 3,
    });
  });
});
