import path from 'node:path';
import { expect } from 'chai';
import { buildTestJar, FlinkTestDouble } from '../src';

const STREAMING = 'org.apache.flink.streaming.examples.windowing.TopSpeedWindowing';
const jobId = (c: string) => c.repeat(32);

/** Resolves once `probe` holds (polling every 5 ms), failing after 5 s. */
async function until(what: string, probe: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await probe())) {
    if (Date.now() > deadline) expect.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A gate a hook waits on; `arrived` counts the callers held. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const held: string[] = [];
  return {
    held,
    hook: async (id: string) => {
      held.push(id);
      await opened;
    },
    open: () => open(),
  };
}

describe('FlinkTestDouble: records and gates for fault tests', () => {
  const flink = new FlinkTestDouble({ timing: { initializeMs: 5, savepointMs: 20, cancelMs: 10 } });
  const call = async (method: string, urlPath: string, body?: unknown, signal?: AbortSignal) => {
    const res = await fetch(`${flink.url}${urlPath}`, {
      method,
      signal,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const upload = async (): Promise<string> => {
    const form = new FormData();
    form.append('jarfile', new Blob([buildTestJar(STREAMING)]), 'TopSpeedWindowing.jar');
    const res = await fetch(`${flink.url}/jars/upload`, { method: 'POST', body: form });
    return path.basename(String(((await res.json()) as { filename: string }).filename));
  };
  let jarId: string;
  before(async () => {
    await flink.start();
    jarId = await upload();
  });
  after(() => flink.stop());
  afterEach(() => {
    flink.setRunDelayHook(null);
    flink.setRequestHook(null);
    flink.setUnavailableWhen(null);
    flink.setRunAnswerHook(null);
    flink.setUploadHook(null);
    flink.setSavepointHook(null);
    flink.failSavepoints(null);
  });

  it('records every run request with its JobID, outcome and delivery, refused duplicates included', async () => {
    expect((await call('POST', `/jars/${jarId}/run`, { jobId: jobId('A') })).status).to.equal(200);
    expect((await call('POST', `/jars/${jarId}/run`, { jobId: jobId('a') })).status).to.equal(400);
    expect(
      (await call('POST', `/jars/${jarId}/run`, { jobId: jobId('a'), entryClass: 'com.example.Nope' })).status,
    ).to.equal(500);
    await until('the answers to be flushed', () => flink.runRequestsFor(jobId('a')).every((r) => r.delivered !== null));
    expect(
      flink
        .runRequestsFor(jobId('a'))
        .map(({ jobId: id, status, outcome, delivered }) => ({ id, status, outcome, delivered })),
    ).to.deep.equal([
      { id: jobId('a'), status: 200, outcome: 'accepted', delivered: true },
      { id: jobId('a'), status: 400, outcome: 'duplicate', delivered: true },
      { id: jobId('a'), status: 500, outcome: 'refused', delivered: true },
    ]);
    expect(flink.submittedJobIds().filter((id) => id === jobId('a'))).to.have.length(1);
  });

  it('marks an answer the client never received (it went away mid-request) as not delivered', async () => {
    const held = gate();
    flink.setRunDelayHook(held.hook);
    const abort = new AbortController();
    const pending = call('POST', `/jars/${jarId}/run`, { jobId: jobId('b') }, abort.signal).catch((e: Error) => e);
    await until('the run request to be held', () => held.held.length === 1);
    abort.abort();
    expect(await pending).to.be.instanceOf(Error);
    held.open();
    await until('the held request to end', () => flink.runRequestsFor(jobId('b'))[0]?.delivered !== null);
    // Flink still took the job: the client just never heard.
    expect(flink.runRequestsFor(jobId('b'))[0]).to.include({ outcome: 'accepted', status: 200, delivered: false });
    expect(flink.job(jobId('b'))?.state).to.equal('RUNNING');
  });

  it('setRunAnswerHook holds the answer of an accepted run: the job runs, the client waits', async () => {
    const held = gate();
    flink.setRunAnswerHook(held.hook);
    const pending = call('POST', `/jars/${jarId}/run`, { jobId: jobId('9') });
    await until('the answer to be held', () => held.held.length === 1);
    expect(flink.job(jobId('9'))?.state).to.equal('RUNNING');
    expect(flink.runRequestsFor(jobId('9'))[0]).to.include({ outcome: 'accepted', status: null, delivered: null });
    held.open();
    expect((await pending).status).to.equal(200);
  });

  it('setRequestHook sees every request as it arrives (without /v1) and can hold it', async () => {
    const seen: string[] = [];
    const held = gate();
    flink.setRequestHook(async (method, urlPath) => {
      seen.push(`${method} ${urlPath}`);
      if (urlPath.endsWith('/run')) await held.hook(urlPath);
    });
    expect((await call('GET', '/v1/jars')).status).to.equal(200);
    const pending = call('POST', `/jars/${jarId}/run`, { jobId: jobId('7') });
    await until('the run request to be held', () => held.held.length === 1);
    expect(flink.runRequestsFor(jobId('7'))).to.deep.equal([]);
    held.open();
    expect((await pending).status).to.equal(200);
    expect(seen).to.deep.equal(['GET /jars', `POST /jars/${jarId}/run`]);
  });

  it('setUnavailableWhen answers 503 to the requests it picks only, until set to null', async () => {
    flink.setUnavailableWhen((method, urlPath) => method === 'POST' && urlPath.endsWith('/plan'));
    const refused = await call('POST', `/v1/jars/${jarId}/plan`, {});
    expect(refused.status).to.equal(503);
    expect(refused.body.errors.join('\n')).to.match(/leader/i);
    expect((await call('GET', '/jars')).status).to.equal(200);
    flink.setUnavailableWhen(null);
    expect((await call('POST', `/jars/${jarId}/plan`, {})).status).to.equal(200);
  });

  it('setUploadHook holds an upload after the bytes arrived: nothing is stored or answered until released', async () => {
    const held = gate();
    flink.setUploadHook(held.hook);
    const before = flink.jarIds().length;
    const pending = upload();
    await until('the upload to be held', () => held.held.length === 1);
    expect(held.held).to.deep.equal(['TopSpeedWindowing.jar']);
    expect(flink.jarIds()).to.have.length(before);
    held.open();
    expect(await pending).to.match(/_TopSpeedWindowing\.jar$/);
    expect(flink.jarIds()).to.have.length(before + 1);
  });

  it('setSavepointHook keeps a savepoint IN_PROGRESS until released; triggers are recorded', async () => {
    expect((await call('POST', `/jars/${jarId}/run`, { jobId: jobId('c') })).status).to.equal(200);
    const held = gate();
    flink.setSavepointHook(held.hook);
    const triggerId = jobId('d');
    expect((await call('POST', `/jobs/${jobId('c')}/stop`, { triggerId })).status).to.equal(202);
    expect((await call('POST', `/jobs/${jobId('c')}/stop`, { triggerId })).status).to.equal(202);
    await until('the savepoint to be held', () => held.held.length === 1);
    expect((await call('GET', `/jobs/${jobId('c')}/savepoints/${triggerId}`)).body).to.deep.equal({
      status: { id: 'IN_PROGRESS' },
    });
    expect(flink.savepointTriggers.filter((t) => t.jobId === jobId('c')).map((t) => t.created)).to.deep.equal([
      true,
      false,
    ]);
    held.open();
    await until('the job to finish', () => flink.job(jobId('c'))?.state === 'FINISHED');
    const done = await call('GET', `/jobs/${jobId('c')}/savepoints/${triggerId}`);
    expect(done.body.status.id).to.equal('COMPLETED');
    expect(done.body.operation.location).to.match(/savepoint-/);
  });

  it('failSavepoints: the operation completes with a failure-cause and the job keeps running', async () => {
    expect((await call('POST', `/jars/${jarId}/run`, { jobId: jobId('e') })).status).to.equal(200);
    flink.failSavepoints();
    const triggerId = jobId('f');
    expect((await call('POST', `/jobs/${jobId('e')}/stop`, { triggerId })).status).to.equal(202);
    let status: any;
    await until('the savepoint to complete', async () => {
      status = (await call('GET', `/jobs/${jobId('e')}/savepoints/${triggerId}`)).body;
      return status.status.id === 'COMPLETED';
    });
    expect(status.operation.location).to.equal(undefined);
    expect(status.operation['failure-cause']['stack-trace']).to.match(
      /^org\.apache\.flink\.runtime\.checkpoint\.CheckpointException: Checkpoint expired before completing\./,
    );
    expect(flink.job(jobId('e'))?.state).to.equal('RUNNING');
  });
});
