import { expect } from 'chai';
import {
  ApplySavepointRetention,
  DependencyUnavailable,
  flinkJobIdFor,
  ManageSavepoints,
  NoRunningExecution,
  SavepointOnFlink,
  savepointsToDispose,
  StopOnFlink,
  TransientFailure,
  type SavepointRetention,
} from '../src';
import { world } from './fakes';

const first = { number: 1, final: false };
const last = { number: 3, final: true };

function setup() {
  const w = world();
  const manage = new ManageSavepoints(w);
  const work = new SavepointOnFlink({ ...w, settings: { pollIntervalMs: 100, timeoutMs: 10_000 } });
  const job = w.jobs.add();
  /** A RUNNING execution of the job, its Flink job running on the fake. */
  const running = () => {
    const e = w.executions.put({ jobId: job.id, status: 'RUNNING', startedAt: w.clock.now() });
    const flinkJobId = flinkJobIdFor(e.id);
    w.executions.rows.set(e.id, { ...e, flinkJobId });
    w.flink.jobs.set(flinkJobId, { state: 'RUNNING' });
    return { ...e, flinkJobId };
  };
  return { ...w, manage, work, job, running };
}

describe('savepoints as records (on fakes)', () => {
  describe('taking one while the job runs', () => {
    it('an operation Flink forgot: the savepoint it lists as taken since is this one; none listed, asked again', async () => {
      const t = setup();
      const execution = t.running();
      const taken = await t.manage.take(t.job.id);
      t.flink.savepointStatus = () => Promise.resolve({ status: 'unknown' });
      // Nothing listed since the record was made: not done, and the retry triggers again.
      t.flink.listedSavepoints.set(execution.flinkJobId, {
        location: 'file:///sp/an-older-one',
        triggeredAt: new Date(t.clock.now().getTime() - 3600_000),
      });
      expect(await t.work.take(taken.id, first).catch((e: unknown) => e)).to.be.instanceOf(TransientFailure);
      expect(t.savepoints.rows.get(taken.id)?.status).to.equal('IN_PROGRESS');

      t.flink.listedSavepoints.set(execution.flinkJobId, { location: 'file:///sp/ours', triggeredAt: t.clock.now() });
      await t.work.take(taken.id, first);
      expect(t.savepoints.rows.get(taken.id)).to.include({ status: 'COMPLETED', location: 'file:///sp/ours' });
    });

    it('records it IN_PROGRESS under a trigger id of its own and sends it to a worker, which records where it went', async () => {
      const t = setup();
      const execution = t.running();
      const taken = await t.manage.take(t.job.id);
      expect(taken).to.include({ status: 'IN_PROGRESS', kind: 'manual', executionId: execution.id, location: null });
      expect(taken.triggerId).to.equal(taken.id.replace(/-/g, ''));
      expect(t.queue.sent).to.deep.equal([{ message: { kind: 'savepoint', savepointId: taken.id } }]);

      t.flink.savepoint = { status: 'COMPLETED', location: 'file:///sp/savepoint-abc' };
      await t.work.take(taken.id, first);
      expect(t.savepoints.rows.get(taken.id)).to.include({ status: 'COMPLETED', location: 'file:///sp/savepoint-abc' });
      expect(t.flink.savepointsTaken.has(taken.triggerId as string)).to.equal(true);
      // The job goes on running: nothing was stopped.
      expect(t.executions.rows.get(execution.id)?.status).to.equal('RUNNING');
      // A redelivered message finds it done.
      await t.work.take(taken.id, first);
      expect(t.flink.calls.get('jobs_savepoint')).to.equal(1);
    });

    it('no RUNNING execution: NoRunningExecution, nothing recorded; a queue that refuses: FAILED and Redis named', async () => {
      const t = setup();
      expect(await t.manage.take(t.job.id).catch((e: unknown) => e)).to.be.instanceOf(NoRunningExecution);
      expect(t.savepoints.rows.size).to.equal(0);

      t.running();
      t.queue.refuse = new Error('Connection is closed.');
      expect(await t.manage.take(t.job.id).catch((e: unknown) => e)).to.be.instanceOf(DependencyUnavailable);
      const [failed] = [...t.savepoints.rows.values()];
      expect(failed).to.include({ status: 'FAILED' });
      expect(failed?.errorMessage).to.match(/could not be queued/);
    });

    it("Flink's failure is recorded with its reason; a transient one is retried until the last try; an ended execution fails it", async () => {
      const t = setup();
      t.running();
      const refused = await t.manage.take(t.job.id);
      t.flink.savepoint = { status: 'FAILED', reason: 'CheckpointException: Checkpoint expired before completing.' };
      await t.work.take(refused.id, first);
      expect(t.savepoints.rows.get(refused.id)).to.include({
        status: 'FAILED',
        errorMessage: 'Savepoint failed: CheckpointException: Checkpoint expired before completing.',
      });

      // Tasks not all running yet (just after a start): not asked of Flink, tried again later.
      const early = await t.manage.take(t.job.id);
      const starting = t.executions.rows.get(early.executionId as string)!.flinkJobId as string;
      t.flink.tasksStarting.add(starting);
      const before = t.flink.calls.get('jobs_savepoint') ?? 0;
      expect(await t.work.take(early.id, first).catch((e: unknown) => e)).to.be.instanceOf(TransientFailure);
      expect(t.flink.calls.get('jobs_savepoint') ?? 0).to.equal(before);
      expect(t.savepoints.rows.get(early.id)?.status).to.equal('IN_PROGRESS');
      t.flink.tasksStarting.delete(starting);

      const flaky = await t.manage.take(t.job.id);
      t.flink.savepointStatus = () => Promise.reject(new TransientFailure('Flink did not answer'));
      expect(await t.work.take(flaky.id, first).catch((e: unknown) => e)).to.be.instanceOf(TransientFailure);
      expect(t.savepoints.rows.get(flaky.id)?.status).to.equal('IN_PROGRESS');
      await t.work.take(flaky.id, last);
      expect(t.savepoints.rows.get(flaky.id)).to.include({ status: 'FAILED', errorMessage: 'Flink did not answer' });

      const orphan = await t.manage.take(t.job.id);
      const execution = t.executions.rows.get(orphan.executionId as string)!;
      t.executions.rows.set(execution.id, { ...execution, status: 'CANCELLED' });
      await t.work.take(orphan.id, first);
      expect(t.savepoints.rows.get(orphan.id)?.errorMessage).to.match(/is CANCELLED: no running job/);
    });
  });

  it('a stop with a savepoint writes its record too (kind stop), once however often the stop is retried', async () => {
    const t = setup();
    const execution = t.running();
    const requestedAt = t.clock.now();
    t.executions.rows.set(execution.id, {
      ...t.executions.rows.get(execution.id)!,
      status: 'STOPPING',
      stopRequest: { savepoint: true, drain: false, requestedAt },
    });
    t.flink.stoppedState = 'FINISHED';
    const stop = new StopOnFlink({ ...t, settings: { pollIntervalMs: 100, timeoutMs: 10_000 } });
    await stop.run(execution.id, first, requestedAt);
    await stop.run(execution.id, first, requestedAt);
    const records = [...t.savepoints.rows.values()];
    expect(records).to.have.length(1);
    expect(records[0]).to.include({ kind: 'stop', status: 'COMPLETED', location: 'file:///savepoints/sp-1' });
    expect(t.executions.rows.get(execution.id)).to.include({
      status: 'STOPPED',
      savepointLocation: 'file:///savepoints/sp-1',
    });
  });

  describe('disposal through Flink', () => {
    it('is asked for, then marked disposed only once Flink reports the disposal done', async () => {
      const t = setup();
      const old = t.savepoints.put({ jobId: t.job.id, location: 'file:///sp/old' });
      t.clock.advance(1000);
      const newer = t.savepoints.put({ jobId: t.job.id, location: 'file:///sp/new' });
      const asked = await t.manage.dispose(t.job.id, old.id);
      expect(asked.disposal?.requestedAt).to.be.instanceOf(Date);
      expect(asked.disposedAt).to.equal(null);
      const requestedAt = asked.disposal?.requestedAt.getTime();
      expect(t.queue.sent).to.deep.equal([{ message: { kind: 'dispose', savepointId: old.id, requestedAt } }]);

      t.flink.disposal = { status: 'IN_PROGRESS' };
      expect(await t.work.dispose(old.id, first).catch((e: unknown) => e)).to.be.instanceOf(TransientFailure);
      const pending = t.savepoints.rows.get(old.id)!;
      expect(pending.disposedAt).to.equal(null);
      // Flink was asked to remove this savepoint's files, and the record keeps the operation Flink named.
      const operations = [...t.flink.disposals];
      expect(operations.map(([, d]) => d.location)).to.deep.equal(['file:///sp/old']);
      const [triggerId, operation] = operations[0]!;
      expect(pending.disposal?.triggerId).to.equal(triggerId);
      // Flink finishes that operation; the retry polls it rather than asking again.
      operation.status = { status: 'COMPLETED' };
      await t.work.dispose(old.id, first);
      expect(t.savepoints.rows.get(old.id)?.disposedAt).to.be.instanceOf(Date);
      expect(t.flink.calls.get('savepoint_disposal')).to.equal(1);
      expect(t.flink.disposals.size).to.equal(1);
      expect(t.savepoints.rows.get(newer.id)).to.include({ disposal: null, disposedAt: null });
      // Asked again: answered as it is, nothing sent.
      expect((await t.manage.dispose(t.job.id, old.id)).disposedAt).to.be.instanceOf(Date);
      expect(t.queue.sent).to.have.length(1);
    });

    it("a failed disposal keeps the savepoint with Flink's reason, and can be asked for again", async () => {
      const t = setup();
      const old = t.savepoints.put({ jobId: t.job.id });
      t.clock.advance(1000);
      t.savepoints.put({ jobId: t.job.id });
      await t.manage.dispose(t.job.id, old.id);
      t.flink.disposal = { status: 'FAILED', reason: 'java.io.IOException: permission denied' };
      await t.work.dispose(old.id, first);
      expect(t.savepoints.rows.get(old.id)).to.include({
        disposal: null,
        disposedAt: null,
        disposalError: 'java.io.IOException: permission denied',
      });
      t.flink.disposal = { status: 'COMPLETED' };
      await t.manage.dispose(t.job.id, old.id);
      await t.work.dispose(old.id, first);
      expect(t.savepoints.rows.get(old.id)).to.include({ disposalError: null });
      expect(t.savepoints.rows.get(old.id)?.disposedAt).to.be.instanceOf(Date);
    });

    it('Flink forgetting the operation (a JobManager restart) asks for the disposal again on the next try', async () => {
      const t = setup();
      const old = t.savepoints.put({ jobId: t.job.id });
      t.clock.advance(1000);
      t.savepoints.put({ jobId: t.job.id });
      await t.manage.dispose(t.job.id, old.id);
      t.flink.disposalStatus = () => Promise.resolve({ status: 'unknown' });
      expect(await t.work.dispose(old.id, first).catch((e: unknown) => e)).to.be.instanceOf(TransientFailure);
      expect(t.savepoints.rows.get(old.id)?.disposal?.triggerId).to.equal(null);
    });

    it('Flink finding no files at the path (an earlier try removed them) is disposed, not a failure', async () => {
      const t = setup();
      const old = t.savepoints.put({ jobId: t.job.id });
      t.clock.advance(1000);
      t.savepoints.put({ jobId: t.job.id });
      await t.manage.dispose(t.job.id, old.id);
      t.flink.disposal = { status: 'absent' };
      await t.work.dispose(old.id, first);
      expect(t.savepoints.rows.get(old.id)).to.include({ disposalError: null });
      expect(t.savepoints.rows.get(old.id)?.disposedAt).to.be.instanceOf(Date);
    });

    it('refuses the newest savepoint, one an active execution restored from, and one not completed, with the reason', async () => {
      const t = setup();
      const inUse = t.savepoints.put({ jobId: t.job.id, location: 'file:///sp/in-use' });
      t.clock.advance(1000);
      const byPath = t.savepoints.put({ jobId: t.job.id, location: 'file:///sp/by-path' });
      t.clock.advance(1000);
      const newest = t.savepoints.put({ jobId: t.job.id, location: 'file:///sp/newest' });
      const failed = t.savepoints.put({ jobId: t.job.id, status: 'FAILED', location: null });
      t.executions.put({
        jobId: t.job.id,
        status: 'RUNNING',
        savepointId: inUse.id,
        savepointPath: 'file:///sp/in-use',
      });
      t.executions.put({ jobId: t.job.id, status: 'QUEUED', savepointPath: 'file:///sp/by-path' });
      const refusal = (id: string) =>
        t.manage.dispose(t.job.id, id).then(
          () => ({ code: 'none', message: '' }),
          (e: { code: string; message: string }) => e,
        );
      expect(await refusal(newest.id)).to.include({ code: 'savepoint_in_use' });
      expect((await refusal(newest.id)).message).to.match(/newest/);
      expect(await refusal(inUse.id)).to.include({ code: 'savepoint_in_use' });
      expect(await refusal(byPath.id)).to.include({ code: 'savepoint_in_use' });
      expect(await refusal(failed.id)).to.include({ code: 'savepoint_not_usable' });
      expect(await refusal('4b0e1e38-0000-4000-8000-000000000000')).to.include({ code: 'savepoint_not_found' });
      expect(t.queue.sent).to.deep.equal([]);
    });
  });

  describe('retention', () => {
    const day = 86_400_000;
    const retention: SavepointRetention = { keepLast: 2, maxAgeDays: 30 };

    it('keeps the newest keepLast and none older than maxAgeDays; never the newest one, never one in use', () => {
      const t = setup();
      const now = t.clock.now().getTime();
      const at = (daysAgo: number) => new Date(now - daysAgo * day);
      const s = [40, 31, 20, 10, 1].map((daysAgo) =>
        t.savepoints.put({ jobId: t.job.id, completedAt: at(daysAgo), location: `file:///sp/${daysAgo}` }),
      );
      const ids = (list: { id: string }[]) => list.map((x) => x.id);
      // Newest first: 1, 10 kept (keepLast 2); 20, 31, 40 beyond it.
      expect(ids(savepointsToDispose(s, retention, new Set(), new Date(now)))).to.deep.equal(
        ids([s[2]!, s[1]!, s[0]!]),
      );
      // Age alone: keepLast 10 keeps all five by count, but 31 and 40 days are past 30.
      expect(ids(savepointsToDispose(s, { keepLast: 10, maxAgeDays: 30 }, new Set(), new Date(now)))).to.deep.equal(
        ids([s[1]!, s[0]!]),
      );
      // The newest is kept even when it is too old; one in use (by id or path) is kept.
      const old = [t.savepoints.put({ jobId: t.job.id, completedAt: at(90) })];
      expect(savepointsToDispose(old, retention, new Set(), new Date(now))).to.deep.equal([]);
      const inUse = new Set([s[0]!.id, 'file:///sp/31']);
      expect(ids(savepointsToDispose(s, retention, inUse, new Date(now)))).to.deep.equal(ids([s[2]!]));
    });

    it("the chore asks for each disposal (job's own retention first, else the defaults) and sends lost messages again", async () => {
      const t = setup();
      const chore = new ApplySavepointRetention({ ...t, defaults: { keepLast: 1, maxAgeDays: 365 } });
      const own = t.jobs.add({ savepointRetention: { keepLast: 3, maxAgeDays: 365 } });
      for (let i = 0; i < 4; i++) {
        t.savepoints.put({ jobId: t.job.id });
        t.savepoints.put({ jobId: own.id });
        t.clock.advance(1000);
      }
      expect(await chore.run()).to.equal(3 + 1);
      const asked = [...t.savepoints.rows.values()].filter((s) => s.disposal);
      expect(asked.filter((s) => s.jobId === t.job.id)).to.have.length(3);
      expect(asked.filter((s) => s.jobId === own.id)).to.have.length(1);
      expect(t.queue.kinds()).to.deep.equal(['dispose', 'dispose', 'dispose', 'dispose']);
      // Nothing new to ask; a minute later, the disposals still not confirmed are sent again.
      t.queue.sent.length = 0;
      expect(await chore.run()).to.equal(0);
      expect(t.queue.sent).to.deep.equal([]);
      // A savepoint still being taken a minute on (its message lost with Redis) is sent again too.
      const taking = await t.savepoints.begin({
        jobId: t.job.id,
        executionId: 'e1',
        cluster: 'default',
        kind: 'periodic',
        triggerId: null,
      });
      t.clock.advance(61_000);
      await chore.run();
      expect(t.queue.kinds()).to.deep.equal(['dispose', 'dispose', 'dispose', 'dispose', 'savepoint']);
      expect(t.queue.sent.at(-1)?.message).to.deep.equal({ kind: 'savepoint', savepointId: taking.id });
    });
  });
});
