import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { PermanentFailure, TransientFailure, type FlinkGateway, type LocalJar } from '@flink-orchestrator/domain';
import { expect } from 'chai';

export interface ContractSubject {
  gateway(): FlinkGateway;
  /** The REST base URL, for the raw answers the gateway turns into outcomes. */
  restUrl(): string;
  /** A JAR whose main class streams until cancelled. */
  streamingJar(): LocalJar;
}

export function localJar(path: string, fileName: string): LocalJar {
  const { size } = statSync(path);
  return { path, fileName, size, sha256: createHash('sha256').update(path).digest('hex') };
}

const newJobId = () => randomBytes(16).toString('hex');

async function eventually<T>(probe: () => Promise<T | null>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 200));
  }
}

const TERMINAL = ['FINISHED', 'CANCELED', 'FAILED'];

/** Runs the uploaded streaming jar under a new JobID and waits until the job reads RUNNING. */
async function runStreaming(gateway: FlinkGateway, jarId: string): Promise<string> {
  const jobId = newJobId();
  await gateway.runJar({
    jarId,
    jobId,
    entryClass: null,
    programArgs: [],
    parallelism: 1,
    savepointPath: null,
    allowNonRestoredState: false,
  });
  await eventually(async () => ((await gateway.getJob(jobId))?.state === 'RUNNING' ? true : null));
  return jobId;
}

/**
 * The behaviour the pipeline relies on from a FlinkGateway, run against the test double in
 * the fast suite and against a real cluster in the end-to-end suite: the double may not
 * promise what Flink does not do.
 */
export function flinkGatewayContract(subject: () => ContractSubject): void {
  let jarId: string;

  it('uploads a JAR, lists it, and names it by <uuid>_<file name>', async () => {
    const s = subject();
    jarId = await s.gateway().uploadJar(s.streamingJar());
    expect(jarId).to.match(/^[0-9a-f-]{36}_.+\.jar$/);
    expect((await s.gateway().listJarIds()).has(jarId)).to.equal(true);
  });

  it('runs under our JobID; the same JobID again is a duplicate; the job reads RUNNING', async () => {
    const gateway = subject().gateway();
    const jobId = newJobId();
    const request = {
      jarId,
      jobId,
      entryClass: null,
      programArgs: [],
      parallelism: 1,
      savepointPath: null,
      allowNonRestoredState: false,
    };
    expect(await gateway.runJar(request)).to.equal('submitted');
    expect(await gateway.runJar(request)).to.equal('duplicate');
    const state = await eventually(async () => {
      const job = await gateway.getJob(jobId);
      return job?.state === 'RUNNING' ? job.state : null;
    });
    expect(state).to.equal('RUNNING');
    expect(await gateway.cancel(jobId)).to.equal('accepted');
    await eventually(async () => ((await gateway.getJob(jobId))?.state === 'CANCELED' ? true : null));
    // A cancelled job is acknowledged again (Dispatcher.cancelJob): 202.
    expect(await gateway.cancel(jobId)).to.equal('accepted');
  });

  it('knows no job under an unknown JobID', async () => {
    const gateway = subject().gateway();
    expect(await gateway.getJob(newJobId())).to.equal(null);
    expect(await gateway.cancel(newJobId())).to.equal('not_found');
    expect(await gateway.latestCheckpoint(newJobId())).to.equal(null);
  });

  it('stops with a savepoint under our trigger id and reports where it went', async () => {
    const gateway = subject().gateway();
    const jobId = await runStreaming(gateway, jarId);
    // A savepoint needs every task running; the job reads RUNNING before its tasks do, and
    // the overview says when they all are.
    await eventually(async () =>
      (await gateway.jobsOverview()).find((j) => j.jobId === jobId)?.tasksRunning === true ? true : null,
    );
    const triggerId = newJobId();
    expect(await gateway.stopWithSavepoint(jobId, { targetDirectory: null, drain: false, triggerId })).to.equal(
      triggerId,
    );
    // The same trigger again is the same operation, not a second savepoint.
    expect(await gateway.stopWithSavepoint(jobId, { targetDirectory: null, drain: false, triggerId })).to.equal(
      triggerId,
    );
    const done = await eventually(async () => {
      const status = await gateway.savepointStatus(jobId, triggerId);
      return status.status === 'IN_PROGRESS' ? null : status;
    });
    expect(done.status).to.equal('COMPLETED');
    expect(done.status === 'COMPLETED' && done.location).to.match(/savepoint-/);
    await eventually(async () => ((await gateway.getJob(jobId))?.state === 'FINISHED' ? true : null));
    // A savepoint is not the latest checkpoint: a restart restores from checkpoints only.
    const checkpoint = await gateway.latestCheckpoint(jobId);
    const location = done.status === 'COMPLETED' ? done.location : '';
    expect(checkpoint).not.to.equal(location);
    // The statistics list it as the job's latest savepoint, triggered about now: what settles
    // an operation Flink forgot. An operation Flink does not know is `unknown` (404).
    const listed = await gateway.latestSavepoint(jobId);
    expect(listed?.location).to.equal(location);
    expect(Math.abs((listed?.triggeredAt.getTime() ?? 0) - Date.now())).to.be.below(120_000);
    expect(await gateway.savepointStatus(jobId, newJobId())).to.deep.equal({ status: 'unknown' });
    expect(await gateway.latestSavepoint(newJobId())).to.equal(null);

    // Disposed of once; asked again (a retry whose first trigger id was lost), the files are
    // already gone, and Flink says so: `absent`, not a failure.
    const disposal = async () => {
      const triggerId = await gateway.disposeSavepoint(location);
      return eventually(async () => {
        const status = await gateway.disposalStatus(triggerId);
        return status.status === 'IN_PROGRESS' ? null : status;
      });
    };
    expect(await disposal()).to.deep.equal({ status: 'COMPLETED' });
    expect(await disposal()).to.deep.equal({ status: 'absent' });

    // The stop path relies on this: a job that ended otherwise than cancelled cannot be
    // cancelled, and Flink says so with a 409 naming the state it ended in.
    expect(await gateway.cancel(jobId)).to.equal('already_terminal');
    const raw = await fetch(`${subject().restUrl()}/jobs/${jobId}?mode=cancel`, { method: 'PATCH' });
    expect(raw.status).to.equal(409);
    const body = (await raw.json()) as { errors: string[] };
    expect(body.errors).to.have.length(1);
    expect(body.errors[0]).to.match(
      /^org\.apache\.flink\.runtime\.rest\.handler\.RestHandlerException: Job cancellation failed because the job has already reached another terminal state \(FINISHED\)\.\n\tat /,
    );
  });

  it('refuses a wrong entry class permanently, naming the class', async () => {
    const gateway = subject().gateway();
    try {
      await gateway.runJar({
        jarId,
        jobId: newJobId(),
        entryClass: 'com.example.DoesNotExist',
        programArgs: [],
        parallelism: 1,
        savepointPath: null,
        allowNonRestoredState: false,
      });
      expect.fail('accepted a missing class');
    } catch (error) {
      expect(error).to.be.instanceOf(PermanentFailure);
      expect((error as Error).message).to.contain('com.example.DoesNotExist');
      expect((error as Error).message).not.to.contain('\n');
    }
  });

  it('plans the uploaded jar without submitting a job: a name and at least one operator', async () => {
    const gateway = subject().gateway();
    const before = (await gateway.jobsOverview()).map((j) => j.jobId).sort();
    const plan = await gateway.planJar({ jarId, entryClass: null, programArgs: [], parallelism: 2 });
    expect(plan.name).to.be.a('string').and.not.equal('');
    expect(plan.operators).to.have.length.at.least(1);
    for (const operator of plan.operators) {
      expect(operator.id).to.match(/^[0-9a-f]{32}$/);
      expect(operator.description).to.be.a('string').and.not.equal('');
      expect(operator.parallelism).to.be.oneOf([1, 2]);
    }
    expect(plan.operators.map((o) => o.parallelism)).to.include(2);
    if (plan.maxParallelism !== null) expect(plan.maxParallelism).to.be.at.least(2);
    // main() ran on the JobManager, but execute() handed back the graph: no job came of it.
    expect((await gateway.jobsOverview()).map((j) => j.jobId).sort()).to.deep.equal(before);
  });

  it('refuses to plan a wrong entry class permanently, naming the class', async () => {
    const gateway = subject().gateway();
    try {
      await gateway.planJar({ jarId, entryClass: 'org.example.DoesNotExist', programArgs: [], parallelism: null });
      expect.fail('planned a missing class');
    } catch (error) {
      expect(error).to.be.instanceOf(PermanentFailure);
      expect((error as Error).message).to.contain('org.example.DoesNotExist');
      expect((error as Error).message).not.to.contain('\n');
    }
  });

  it('plans a jar Flink does not have as a transient failure (it is uploaded again)', async () => {
    const gateway = subject().gateway();
    const missing = `${randomUUID()}_Gone.jar`;
    try {
      await gateway.planJar({ jarId: missing, entryClass: null, programArgs: [], parallelism: null });
      expect.fail('planned a missing jar');
    } catch (error) {
      expect(error).to.be.instanceOf(TransientFailure);
      expect((error as Error).message).to.contain('no longer has the uploaded JAR');
    }
  });

  it('lists a running job in the jobs overview with its name; jobStatus reads its state', async () => {
    const s = subject();
    const gateway = s.gateway();
    const jobId = await runStreaming(gateway, jarId);
    try {
      const listed = (await gateway.jobsOverview()).find((j) => j.jobId === jobId);
      expect(listed, 'the job is in /jobs/overview').not.to.equal(undefined);
      expect(TERMINAL).not.to.include(listed?.state);
      const details = (await (await fetch(`${s.restUrl()}/jobs/${jobId}`)).json()) as { name: string };
      expect(listed?.name).to.equal(details.name).and.not.equal('');
      expect(listed?.startTime).to.be.a('number').and.be.greaterThan(0);
      expect(await gateway.jobStatus(jobId)).to.deep.equal({ state: 'RUNNING' });
      // The job holds a slot (it may take a moment for a real JobMaster to get it).
      await eventually(async () => {
        const cluster = await gateway.clusterOverview();
        return cluster.slotsFree < cluster.slotsTotal && cluster.runningJobs >= 1 ? true : null;
      });
    } finally {
      await gateway.cancel(jobId);
    }
    await eventually(async () => ((await gateway.jobStatus(jobId))?.state === 'CANCELED' ? true : null));
    expect((await gateway.jobsOverview()).find((j) => j.jobId === jobId)?.state).to.equal('CANCELED');
  });

  it('knows no status for an unknown JobID (Flink: 404, or 500 FlinkJobNotFoundException)', async () => {
    const s = subject();
    const jobId = newJobId();
    expect(await s.gateway().jobStatus(jobId)).to.equal(null);
    const raw = await fetch(`${s.restUrl()}/jobs/${jobId}/status`);
    const body = (await raw.json()) as { errors?: string[] };
    expect(raw.status).to.be.oneOf([404, 500]);
    // 500 is only ever "not found" when it names the Dispatcher's exception (checked on 1.20.5 and 2.3.0).
    if (raw.status === 500) {
      expect(body.errors?.[0]).to.equal('Internal server error.');
      expect(body.errors?.[1]).to.contain(`FlinkJobNotFoundException: Could not find Flink job (${jobId})`);
    }
  });

  it('describes the cluster: TaskManagers, slots, version; and the default parallelism', async () => {
    const gateway = subject().gateway();
    const cluster = await gateway.clusterOverview();
    expect(cluster.taskManagers).to.be.at.least(1);
    expect(cluster.slotsTotal).to.be.at.least(cluster.slotsFree);
    expect(cluster.slotsFree).to.be.at.least(0);
    expect(cluster.runningJobs).to.be.at.least(0);
    expect(cluster.flinkVersion)
      .to.be.a('string')
      .and.match(/^\d+\.\d+/);
    const parallelism = await gateway.defaultParallelism();
    if (parallelism !== null) expect(Number.isInteger(parallelism) && parallelism > 0).to.equal(true);
  });

  it('deletes a JAR; deleting it again is not an error', async () => {
    const gateway = subject().gateway();
    await gateway.deleteJar(jarId);
    expect((await gateway.listJarIds()).has(jarId)).to.equal(false);
    await gateway.deleteJar(jarId);
  });
}
