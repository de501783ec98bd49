import { createHash, randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { PermanentFailure, type FlinkGateway, type LocalJar } from '@flink-orchestrator/domain';
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
  });

  it('stops with a savepoint under our trigger id and reports where it went', async () => {
    const gateway = subject().gateway();
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
    await new Promise((r) => setTimeout(r, 1500));
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

  it('deletes a JAR; deleting it again is not an error', async () => {
    const gateway = subject().gateway();
    await gateway.deleteJar(jarId);
    expect((await gateway.listJarIds()).has(jarId)).to.equal(false);
    await gateway.deleteJar(jarId);
  });
}
