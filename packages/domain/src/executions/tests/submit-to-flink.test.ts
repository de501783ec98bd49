import { expect } from 'chai';
import { EnsureJarOnFlink, flinkJobIdFor, PermanentFailure, SubmitToFlink, TransientFailure } from '../..';
import { MemoryJarRegistry, oneJar, SUBMIT_SETTINGS, world } from '../../testing/fakes';

/** A JAR source serving one content, and a registry in a map: EnsureJarOnFlink on fakes. */
function jarsOn(w: ReturnType<typeof world>) {
  const source = oneJar();
  return { fetched: source.fetched, jars: new EnsureJarOnFlink(source, new MemoryJarRegistry(), w.log) };
}

function setup() {
  const w = world();
  const { fetched, jars } = jarsOn(w);
  const stages: string[] = [];
  const submit = new SubmitToFlink({
    ...w,
    jars,
    settings: SUBMIT_SETTINGS,
    timings: { observe: (stage) => void stages.push(stage) },
  });
  const job = w.jobs.add({ jarUrl: 'app.jar', config: { b: 2, a: 'x' }, parallelism: 3 });
  const queued = () =>
    w.executions.put({
      jobId: job.id,
      status: 'QUEUED',
      definition: { jarUrl: 'app.jar', entryClass: 'com.example.Main', config: { b: 2, a: 'x' }, jobVersion: 1 },
      parallelism: 3,
    });
  return { ...w, submit, job, queued, fetched, stages };
}

const first = { number: 1, final: false };
const last = { number: 8, final: true };

describe('SubmitToFlink (on fakes)', () => {
  it('QUEUED → RUNNING: downloads from the data-processor, runs under the derived JobID, sends nothing more', async () => {
    const t = setup();
    const e = t.queued();
    await t.submit.run(e.id, first);
    const row = t.executions.rows.get(e.id);
    expect(row?.status).to.equal('RUNNING');
    expect(row).to.include({ flinkJobId: flinkJobIdFor(e.id), flinkState: 'RUNNING', jarSha256: 'c0ffee' });
    expect(row?.runRequestedAt).to.be.instanceOf(Date);
    expect(t.fetched).to.deep.equal(['http://dp:8080/app.jar']);
    expect(t.flink.runs).to.have.length(1);
    expect(t.flink.runs[0]).to.include({ jobId: flinkJobIdFor(e.id), parallelism: 3, entryClass: 'com.example.Main' });
    expect(t.flink.runs[0]?.programArgs).to.deep.equal(['--a', 'x', '--b', '2']);
    // The cluster's observer follows it from here: no message per running execution.
    expect(t.queue.sent).to.deep.equal([]);
    expect(t.stages).to.deep.equal(['download_upload', 'run', 'to_running']);
  });

  it('a retry after the run request asks Flink first and does not run the job again', async () => {
    const t = setup();
    const e = t.queued();
    const jid = flinkJobIdFor(e.id);
    await t.executions.transition(e.id, 'SUBMITTING', { flinkJobId: jid, runRequestedAt: t.clock.now() });
    t.flink.jobs.set(jid, { state: 'RUNNING' });
    await t.submit.run(e.id, { number: 2, final: false });
    expect(t.executions.status(e.id)).to.equal('RUNNING');
    expect(t.flink.runs).to.have.length(0);
    expect(t.fetched).to.have.length(0);
  });

  it('Flink refusing the JobID as a duplicate of a job it forgot: LOST, not a second job', async () => {
    const t = setup();
    const e = t.queued();
    t.flink.runJar = () => Promise.resolve('duplicate');
    await t.submit.run(e.id, first);
    expect(t.executions.status(e.id)).to.equal('LOST');
    expect(t.executions.rows.get(e.id)?.errorMessage).to.match(/already submitted but no longer knows it/);
  });

  it('a stop recorded before the run request: CANCELLED and Flink never sees the job', async () => {
    const t = setup();
    const e = t.queued();
    await t.executions.transition(e.id, 'SUBMITTING', { flinkJobId: flinkJobIdFor(e.id) });
    await t.executions.transition(e.id, 'STOPPING', {
      stopRequest: { savepoint: false, drain: false, requestedAt: t.clock.now() },
    });
    await t.submit.run(e.id, first);
    expect(t.executions.status(e.id)).to.equal('CANCELLED');
    expect(t.flink.runs).to.have.length(0);
  });

  it('a stop arriving while the run request is out is handed to the stop handler', async () => {
    const t = setup();
    const e = t.queued();
    const requestedAt = t.clock.now();
    t.flink.runJar = async (request) => {
      // The API records the stop while Flink is accepting the job.
      await t.executions.transition(e.id, 'STOPPING', { stopRequest: { savepoint: true, drain: false, requestedAt } });
      t.flink.jobs.set(request.jobId, { state: 'RUNNING' });
      return 'submitted';
    };
    await t.submit.run(e.id, first);
    expect(t.executions.status(e.id)).to.equal('STOPPING');
    expect(t.executions.rows.get(e.id)?.submittedAt).to.be.instanceOf(Date);
    expect(t.queue.sent.map((s) => s.message)).to.deep.equal([
      { kind: 'stop', executionId: e.id, requestedAt: requestedAt.getTime() },
    ]);
  });

  it('a transient failure is recorded and rethrown for a retry; the row stays SUBMITTING', async () => {
    const t = setup();
    const e = t.queued();
    t.flink.uploadJar = () => Promise.reject(new TransientFailure('Flink unreachable'));
    const error = await t.submit.run(e.id, first).catch((err: unknown) => err);
    expect(error).to.be.instanceOf(TransientFailure);
    expect(t.executions.rows.get(e.id)).to.include({
      status: 'SUBMITTING',
      attempt: 2,
      errorMessage: 'Flink unreachable',
    });
  });

  it('the last try failing after the run request: RUNNING with state UNKNOWN, for the observer to settle', async () => {
    const t = setup();
    const e = t.queued();
    t.flink.runJar = () => Promise.reject(new TransientFailure('socket hang up'));
    await t.submit.run(e.id, last);
    const row = t.executions.rows.get(e.id);
    expect(row).to.include({ status: 'RUNNING', flinkState: 'UNKNOWN' });
    expect(row?.errorMessage).to.match(/^Submission outcome unknown after 8 attempts \(socket hang up\)/);
    expect(t.queue.sent).to.deep.equal([]);
  });

  it('a permanent failure before the run request: FAILED at once, whatever the attempt', async () => {
    const t = setup();
    const e = t.queued();
    t.flink.uploadJar = () => Promise.reject(new PermanentFailure('not a JAR'));
    await t.submit.run(e.id, first);
    expect(t.executions.rows.get(e.id)).to.include({ status: 'FAILED', errorMessage: 'not a JAR' });
    expect(t.executions.rows.get(e.id)?.finishedAt).to.be.instanceOf(Date);
  });

  it('a message for an execution that is gone, or ended, changes nothing', async () => {
    const t = setup();
    await t.submit.run('00000000-0000-4000-8000-000000000000', first);
    const e = t.executions.put({ jobId: t.job.id, status: 'CANCELLED' });
    await t.submit.run(e.id, first);
    expect(t.executions.status(e.id)).to.equal('CANCELLED');
    expect(t.flink.runs).to.have.length(0);
    expect(t.queue.sent).to.have.length(0);
  });

  it('JAR reuse: starts within JAR_REUSE_MS, or during the first fetch, skip it; after it, or after a failed run, the JAR is asked for again', async () => {
    const w = world();
    const source = oneJar();
    const jars = new EnsureJarOnFlink(source, new MemoryJarRegistry(), w.log, { forMs: 5000, clock: w.clock });
    const submit = new SubmitToFlink({ ...w, jars, settings: SUBMIT_SETTINGS });
    const job = w.jobs.add({ jarUrl: 'app.jar' });
    const startOne = async () => {
      const e = w.executions.put({
        jobId: job.id,
        status: 'QUEUED',
        definition: { jarUrl: 'app.jar', entryClass: 'com.example.Main', config: {}, jobVersion: 1 },
      });
      await submit.run(e.id, first);
      return e.id;
    };
    await Promise.all([startOne(), startOne()]); // the second waits for the first's fetch
    await startOne();
    expect(source.fetched).to.have.length(1);
    expect(w.executions.status(await startOne())).to.equal('RUNNING');
    w.clock.advance(5000);
    await startOne();
    expect(source.fetched).to.have.length(2);

    // Flink lost the JAR within the window: the run fails as transient, and the retry asks again.
    const lost = w.flink.runJar.bind(w.flink);
    w.flink.runJar = () => Promise.reject(new TransientFailure('Flink no longer has the uploaded JAR'));
    const e = w.executions.put({
      jobId: job.id,
      status: 'QUEUED',
      definition: { jarUrl: 'app.jar', entryClass: 'com.example.Main', config: {}, jobVersion: 1 },
    });
    await submit.run(e.id, first).catch(() => undefined);
    w.flink.runJar = lost;
    await submit.run(e.id, { number: 2, final: false });
    expect(source.fetched).to.have.length(3);
    expect(w.executions.status(e.id)).to.equal('RUNNING');

    // Another execution failing for good (its own JAR gone from the data-processor, a wrong
    // class) says nothing of the JARs the cluster has: what is remembered stays.
    w.flink.runJar = () => Promise.reject(new PermanentFailure('Could not find class com.example.Gone'));
    const refused = w.executions.put({
      jobId: job.id,
      status: 'QUEUED',
      definition: { jarUrl: 'app.jar', entryClass: 'com.example.Gone', config: {}, jobVersion: 1 },
    });
    await submit.run(refused.id, first).catch(() => undefined);
    w.flink.runJar = lost;
    expect(w.executions.status(await startOne())).to.equal('RUNNING');
    expect(source.fetched).to.have.length(3);
  });

  it('JAR reuse: ensures of one JAR on one cluster at once make one fetch, even with nothing kept after', async () => {
    const w = world();
    const source = oneJar();
    const jars = new EnsureJarOnFlink(source, new MemoryJarRegistry(), w.log, { forMs: 0, clock: w.clock });
    const target = await w.clusters.gatewayFor('default');
    const [a, b] = await Promise.all([
      jars.ensure('http://dp/app.jar', target),
      jars.ensure('http://dp/app.jar', target),
    ]);
    expect(source.fetched).to.have.length(1);
    expect([a.cached, b.cached, b.jarId]).to.deep.equal([false, true, a.jarId]);
    await jars.ensure('http://dp/app.jar', target);
    expect(source.fetched).to.have.length(2);
  });
});
