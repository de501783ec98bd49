import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { buildTestJar, FlinkTestDouble, type FlinkTestDoubleOptions, manifestEntryClass } from '../src';

const STREAMING = 'org.apache.flink.streaming.examples.windowing.TopSpeedWindowing';
const WORD_COUNT = 'org.apache.flink.streaming.examples.wordcount.WordCount';
const FAST = { initializeMs: 10, savepointMs: 60, cancelMs: 20, finishMs: 80, failMs: 40 };

type Answer = { status: number; body: Record<string, unknown> & { errors?: string[] } };

const jobId = (c: string) => c.repeat(32);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A double on a fresh port, plus small HTTP helpers that talk to it like a client would. */
function harness(options: FlinkTestDoubleOptions = {}) {
  const flink = new FlinkTestDouble({ timing: FAST, ...options });
  const call = async (method: string, urlPath: string, body?: unknown): Promise<Answer> => {
    const res = await fetch(`${flink.url}${urlPath}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Answer['body']) : {} };
  };
  const upload = async (name: string, mainClass: string, extraField?: string): Promise<Answer> => {
    const form = new FormData();
    if (extraField) form.append(extraField, 'x');
    form.append('jarfile', new Blob([buildTestJar(mainClass)], { type: 'application/x-java-archive' }), name);
    const res = await fetch(`${flink.url}/jars/upload`, { method: 'POST', body: form });
    return { status: res.status, body: (await res.json()) as Answer['body'] };
  };
  const uploadJarId = async (name: string, mainClass: string): Promise<string> => {
    const res = await upload(name, mainClass);
    expect(res.status).to.equal(200);
    return path.basename(String(res.body.filename));
  };
  const waitForState = async (jid: string, state: string): Promise<void> => {
    for (let i = 0; i < 200; i++) {
      const res = await call('GET', `/jobs/${jid}`);
      if (res.body.state === state) return;
      await sleep(10);
    }
    expect.fail(`job ${jid} never reached ${state}`);
  };
  before(() => flink.start());
  after(() => flink.stop());
  return { flink, call, upload, uploadJarId, waitForState };
}

describe('FlinkTestDouble', () => {
  describe('Flink 1.20 (default)', () => {
    const spDir = mkdtempSync(path.join(tmpdir(), 'flink-double-sp-'));
    const h = harness({ savepointDir: pathToFileURL(spDir).href });

    it('reports its version and web submission, under /v1 too', async () => {
      const config = await h.call('GET', '/v1/config');
      expect(config.status).to.equal(200);
      expect(config.body['flink-version']).to.equal('1.20.1');
      expect(config.body.features).to.deep.include({ 'web-submit': true });
      const overview = await h.call('GET', '/overview');
      expect(overview.body).to.include({ taskmanagers: 1, 'slots-total': 64, 'flink-version': '1.20.1' });
    });

    it('upload → list → run with jobId → duplicate → job RUNNING → cancel → CANCELED', async () => {
      const upload = await h.upload('TopSpeedWindowing.jar', STREAMING);
      expect(upload.body.status).to.equal('success');
      expect(upload.body.filename).to.match(/^\/tmp\/flink-web-upload\/[0-9a-f-]{36}_TopSpeedWindowing\.jar$/);
      const jarId = path.basename(String(upload.body.filename));
      expect(h.flink.uploads).to.equal(1);

      const jars = await h.call('GET', '/jars');
      expect(jars.body.files).to.deep.include({
        id: jarId,
        name: 'TopSpeedWindowing.jar',
        uploaded: (jars.body.files as { uploaded: number }[])[0]?.uploaded,
        entry: [{ name: STREAMING, description: null }],
      });

      const jid = jobId('a');
      const run = await h.call('POST', `/jars/${jarId}/run`, { jobId: jid, programArgsList: ['--speed', '5'] });
      expect(run).to.deep.equal({ status: 200, body: { jobid: jid } });
      const again = await h.call('POST', `/v1/jars/${jarId}/run`, { jobId: jid });
      expect(again.status).to.equal(400);
      expect(again.body.errors?.[0]).to.match(
        /^org\.apache\.flink\.runtime\.rest\.handler\.RestHandlerException: Could not execute application\./,
      );
      expect(again.body.errors?.[0]).to.contain(
        'Caused by: org.apache.flink.runtime.client.DuplicateJobSubmissionException: Job has already been submitted.',
      );
      expect(h.flink.submittedJobIds()).to.deep.equal([jid]);
      expect(h.flink.runRequests).to.have.length(2);
      expect(h.flink.job(jid)).to.deep.equal({
        state: 'RUNNING',
        programArgs: ['--speed', '5'],
        entryClass: null,
        parallelism: null,
        savepointPath: null,
      });

      const details = await h.call('GET', `/jobs/${jid}`);
      expect(details.status).to.equal(200);
      expect(details.body).to.include({ jid, state: 'RUNNING', 'end-time': -1, isStoppable: false });
      expect(details.body.vertices).to.deep.equal([]);
      expect(details.body).to.have.keys([
        ...['jid', 'name', 'isStoppable', 'state', 'job-type', 'start-time', 'end-time', 'duration'],
        ...['maxParallelism', 'now', 'timestamps', 'vertices', 'status-counts', 'plan'],
      ]);
      const list = await h.call('GET', '/jobs');
      expect(list.body.jobs).to.deep.include({ id: jid, status: 'RUNNING' });
      const overview = await h.call('GET', '/jobs/overview');
      expect((overview.body.jobs as { jid: string }[]).map((j) => j.jid)).to.include(jid);

      const cancel = await h.call('PATCH', `/jobs/${jid}?mode=cancel`);
      expect(cancel).to.deep.equal({ status: 202, body: {} });
      await h.waitForState(jid, 'CANCELED');
      expect((await h.call('PATCH', `/jobs/${jid}`)).status).to.equal(202); // idempotent
      expect((await h.call('PATCH', `/jobs/${jid}?mode=stop`)).status).to.equal(308);
      // The id stays taken after the job ended.
      expect((await h.call('POST', `/jars/${jarId}/run`, { jobId: jid })).status).to.equal(400);
    });

    it('stop-with-savepoint: 202, idempotent triggerId, IN_PROGRESS → COMPLETED, FINISHED, restorable', async () => {
      const jarId = await h.uploadJarId('TopSpeedWindowing.jar', STREAMING);
      const jid = jobId('b');
      expect((await h.call('POST', `/jars/${jarId}/run`, { jobId: jid })).status).to.equal(200);
      const triggerId = jobId('c');
      const stop = await h.call('POST', `/jobs/${jid}/stop`, { drain: false, triggerId });
      expect(stop).to.deep.equal({ status: 202, body: { 'request-id': triggerId } });
      expect(await h.call('POST', `/jobs/${jid}/stop`, { triggerId })).to.deep.equal(stop);
      expect((await h.call('GET', `/jobs/${jid}/savepoints/${triggerId}`)).body).to.deep.equal({
        status: { id: 'IN_PROGRESS' },
      });
      let status: Answer;
      do {
        await sleep(20);
        status = await h.call('GET', `/jobs/${jid}/savepoints/${triggerId}`);
      } while ((status.body.status as { id: string }).id !== 'COMPLETED');
      const location = String((status.body.operation as { location: string }).location);
      expect(location.startsWith(`${pathToFileURL(spDir).href}/savepoint-bbbbbb-`)).to.equal(true);
      expect(location).to.match(/savepoint-bbbbbb-[0-9a-f]{12}$/);
      expect(existsSync(fileURLToPath(location))).to.equal(true);
      expect((await h.call('GET', `/jobs/${jid}`)).body.state).to.equal('FINISHED');

      const restored = jobId('d');
      await h.call('POST', `/jars/${jarId}/run`, { jobId: restored, savepointPath: location, claimMode: 'NO_CLAIM' });
      const checkpoints = await h.call('GET', `/jobs/${restored}/checkpoints`);
      expect((checkpoints.body.latest as { restored: { external_path: string } }).restored.external_path).to.equal(
        location,
      );
      expect(h.flink.job(restored)?.savepointPath).to.equal(location);

      const unknownTrigger = await h.call('GET', `/jobs/${jid}/savepoints/${jobId('e')}`);
      expect(unknownTrigger.status).to.equal(404);
      expect(unknownTrigger.body.errors?.[0]).to.contain('There is no savepoint operation with triggerId=');
    });

    it('a savepoint with cancel-job ends CANCELED; a trigger for an unknown job fails in the poll', async () => {
      const jarId = await h.uploadJarId('TopSpeedWindowing.jar', STREAMING);
      const jid = jobId('f');
      await h.call('POST', `/jars/${jarId}/run`, { jobId: jid });
      const sp = await h.call('POST', `/jobs/${jid}/savepoints`, { 'cancel-job': true });
      expect(sp.status).to.equal(202);
      await h.waitForState(jid, 'CANCELED');

      const ghost = jobId('9');
      const trigger = await h.call('POST', `/jobs/${ghost}/stop`, {});
      expect(trigger.status).to.equal(202);
      let poll: Answer;
      do {
        await sleep(10);
        poll = await h.call('GET', `/jobs/${ghost}/savepoints/${String(trigger.body['request-id'])}`);
      } while ((poll.body.status as { id: string }).id !== 'COMPLETED');
      const cause = (poll.body.operation as { 'failure-cause': Record<string, string> })['failure-cause'];
      expect(cause?.class).to.equal('org.apache.flink.runtime.messages.FlinkJobNotFoundException');
      expect(cause?.['stack-trace']).to.contain('Could not find Flink job');
    });

    it('WordCount finishes by itself; cancelling it afterwards is a 409', async () => {
      const jarId = await h.uploadJarId('WordCount.jar', WORD_COUNT);
      const jid = jobId('1');
      await h.call('POST', `/jars/${jarId}/run`, { jobId: jid, parallelism: 2 });
      expect(h.flink.job(jid)?.parallelism).to.equal(2);
      await h.waitForState(jid, 'FINISHED');
      const cancel = await h.call('PATCH', `/jobs/${jid}?mode=cancel`);
      expect(cancel.status).to.equal(409);
      expect(cancel.body.errors?.[0]).to.contain('has already reached another terminal state (FINISHED)');
    });

    it('a Failing program fails with an exception history (1.x shape, deprecated fields included)', async () => {
      const jarId = await h.uploadJarId('Jobs.jar', 'com.example.FailingJob');
      const jid = jobId('2');
      await h.call('POST', `/jars/${jarId}/run`, { jobId: jid });
      await h.waitForState(jid, 'FAILED');
      const res = await h.call('GET', `/jobs/${jid}/exceptions?maxExceptions=5`);
      expect(res.body).to.have.keys(['root-exception', 'timestamp', 'all-exceptions', 'truncated', 'exceptionHistory']);
      const [entry] = (res.body.exceptionHistory as { entries: Record<string, unknown>[] }).entries;
      expect(entry?.exceptionName).to.equal('org.apache.flink.runtime.JobException');
      expect(entry?.stacktrace).to.contain('Caused by: java.lang.IllegalStateException: Simulated failure in operator');
      expect(entry).to.have.property('location');
      expect(res.body['root-exception']).to.equal(entry?.stacktrace);
    });

    it('failJob and finishJob drive a running job', async () => {
      const jarId = await h.uploadJarId('TopSpeedWindowing.jar', STREAMING);
      await h.call('POST', `/jars/${jarId}/run`, { jobId: jobId('3') });
      await h.call('POST', `/jars/${jarId}/run`, { jobId: jobId('4') });
      h.flink.failJob(jobId('3'), 'java.io.IOException: disk full');
      h.flink.finishJob(jobId('4'));
      const res = await h.call('GET', `/jobs/${jobId('3')}/exceptions`);
      const [entry] = (res.body.exceptionHistory as { entries: { stacktrace: string }[] }).entries;
      expect(entry?.stacktrace).to.contain('Caused by: java.io.IOException: disk full');
      expect((await h.call('GET', `/jobs/${jobId('4')}`)).body.state).to.equal('FINISHED');
    });

    it('answers bad programs, bad ids and bad bodies as Flink does', async () => {
      const jarId = await h.uploadJarId('Jobs.jar', STREAMING);
      const throws = await h.call('POST', `/jars/${jarId}/run`, { entryClass: 'com.example.ThrowsInMain' });
      expect(throws.status).to.equal(400);
      expect(throws.body.errors?.[0]).to.contain('Could not execute application.');
      expect(throws.body.errors?.[0]).to.contain('ProgramInvocationException: The main method caused an error:');

      const missing = await h.call('POST', `/jars/${jarId}/run`, { entryClass: 'com.example.DoesNotExist' });
      expect(missing.status).to.equal(500);
      expect(missing.body.errors?.[0]).to.equal('Internal server error.');
      expect(missing.body.errors?.[1]).to.contain(
        "ProgramInvocationException: The program's entry point class 'com.example.DoesNotExist' was not found",
      );

      const noJar = await h.call('POST', '/jars/nope.jar/run', {});
      expect(noJar.status).to.equal(500);
      expect(noJar.body.errors?.[1]).to.contain('Jar file /tmp/flink-web-upload/nope.jar does not exist');

      const badId = await h.call('POST', `/jars/${jarId}/run`, { jobId: 'not-hex' });
      expect(badId.status).to.equal(400);
      expect(badId.body.errors?.[0]).to.contain('Request did not match expected format JarRunRequestBody.');
      const notJson = await h.call('POST', `/jars/${jarId}/run`, '{oops');
      expect(notJson.status).to.equal(400);
      expect(notJson.body.errors?.[0]).to.contain('Request did not match expected format JarRunRequestBody.');
      const badStop = await h.call('POST', `/jobs/${jobId('5')}/stop`, '[1]');
      expect(badStop.body.errors?.[0]).to.contain(
        'Request did not match expected format StopWithSavepointRequestBody.',
      );

      const confusing = await h.call('POST', `/jars/${jarId}/run`, { programArgs: '--a 1', programArgsList: ['--a'] });
      expect(confusing.status).to.equal(400);
      expect(confusing.body.errors?.[0]).to.contain('Confusing request: programArgs and programArgsList');

      // Unknown fields are ignored; the 1.x programArgs string is tokenized.
      const jid = jobId('6');
      const ok = await h.call('POST', `/jars/${jarId}/run`, { jobId: jid, programArgs: '--x "a b"', whatever: 1 });
      expect(ok.status).to.equal(200);
      expect(h.flink.job(jid)?.programArgs).to.deep.equal(['--x', 'a b']);
    });

    it('plans a jar without submitting: source and sink at the asked parallelism; bad programs as Flink does', async () => {
      const jarId = await h.uploadJarId('TopSpeedWindowing.jar', STREAMING);
      const runsBefore = h.flink.runRequests.length;
      const submittedBefore = h.flink.submittedJobIds();

      const plan = await h.call('POST', `/v1/jars/${jarId}/plan`, { programArgsList: ['--x'], parallelism: 3 });
      expect(plan.status).to.equal(200);
      const body = plan.body.plan as { jid: string; name: string; type: string; nodes: Record<string, unknown>[] };
      expect(body).to.include({ name: 'TopSpeedWindowing', type: 'STREAMING' });
      expect(body.jid).to.match(/^[0-9a-f]{32}$/);
      expect(body.nodes).to.have.length(2);
      const [source, sink] = body.nodes;
      expect(source).to.include({ parallelism: 3, operator: '', operator_strategy: '' });
      expect(source?.description).to.match(/^Source: /);
      expect(sink?.description).to.match(/^Sink: /);
      expect(sink?.inputs).to.deep.equal([
        { num: 0, id: source?.id, ship_strategy: 'FORWARD', exchange: 'pipelined_bounded' },
      ]);
      for (const node of body.nodes) expect(node.id).to.match(/^[0-9a-f]{32}$/);
      // The same program plans to the same vertex ids; no parallelism: the cluster default (1).
      const again = await h.call('POST', `/jars/${jarId}/plan?parallelism=2`, {});
      const nodes = (again.body.plan as { nodes: { id: string; parallelism: number }[] }).nodes;
      expect(nodes.map((n) => n.id)).to.deep.equal(body.nodes.map((n) => n.id));
      expect(nodes.map((n) => n.parallelism)).to.deep.equal([2, 2]);
      const fallback = await h.call('POST', `/jars/${jarId}/plan`);
      expect((fallback.body.plan as { nodes: { parallelism: number }[] }).nodes[0]?.parallelism).to.equal(1);
      const named = await h.call('POST', `/jars/${jarId}/plan`, { jobId: jobId('e') });
      expect((named.body.plan as { jid: string }).jid).to.equal(jobId('e'));

      const missing = await h.call('POST', `/jars/${jarId}/plan`, { entryClass: 'com.example.DoesNotExist' });
      expect(missing.status).to.equal(500);
      expect(missing.body.errors?.[0]).to.equal('Internal server error.');
      expect(missing.body.errors?.[1]).to.contain(
        "ProgramInvocationException: The program's entry point class 'com.example.DoesNotExist' was not found",
      );
      expect(missing.body.errors?.[1]).to.contain(
        'Caused by: java.lang.ClassNotFoundException: com.example.DoesNotExist',
      );
      const throws = await h.call('POST', `/jars/${jarId}/plan`, { entryClass: 'com.example.ThrowsInMain' });
      expect(throws.status).to.equal(500);
      expect(throws.body.errors?.[1]).to.contain('ProgramInvocationException: The main method caused an error:');
      const noJar = await h.call('POST', '/jars/nope.jar/plan', {});
      expect(noJar.status).to.equal(500);
      expect(noJar.body.errors?.[1]).to.contain(
        'CompletionException: org.apache.flink.runtime.rest.handler.RestHandlerException: Jar file /tmp/flink-web-upload/nope.jar does not exist',
      );
      const badBody = await h.call('POST', `/jars/${jarId}/plan`, { jobId: 'not-hex' });
      expect(badBody.status).to.equal(400);
      expect(badBody.body.errors?.[0]).to.contain('Request did not match expected format JarPlanRequestBody.');
      // Real Flink answers GET the same way, though the spec lists only POST.
      expect((await h.call('GET', `/jars/${jarId}/plan?parallelism=2`)).status).to.equal(200);

      expect(h.flink.runRequests).to.have.length(runsBefore);
      expect(h.flink.submittedJobIds()).to.deep.equal(submittedBefore);
    });

    it('answers unknown things with 404s and 400s', async () => {
      const unknown = await h.call('GET', `/jobs/${jobId('7')}`);
      expect(unknown.status).to.equal(404);
      expect(unknown.body.errors?.[0]).to.contain(`NotFoundException: Job ${jobId('7')} not found`);
      const cancel = await h.call('PATCH', `/jobs/${jobId('7')}?mode=cancel`);
      expect(cancel.status).to.equal(404);
      expect(cancel.body.errors?.[0]).to.contain('Job could not be found.');
      expect(await h.call('GET', '/nowhere?x=1')).to.deep.equal({
        status: 404,
        body: { errors: ['Not found: /nowhere?x=1'] },
      });
      expect((await h.call('GET', '/jobs/xyz')).status).to.equal(400);
      const del = await h.call('DELETE', '/jars/nope.jar');
      expect(del.status).to.equal(400);
      expect(del.body.errors?.[0]).to.contain('File nope.jar does not exist in');
    });

    it('refuses uploads that are not one .jar file', async () => {
      const notJar = await h.upload('job.zip', STREAMING);
      expect(notJar.status).to.equal(400);
      expect(notJar.body.errors?.[0]).to.contain('Only Jar files are allowed.');
      const extra = await h.upload('job.jar', STREAMING, 'colour');
      expect(extra).to.deep.equal({ status: 400, body: { errors: ['Received unknown attribute colour.'] } });
      const none = await fetch(`${h.flink.url}/jars/upload`, { method: 'POST', body: new FormData() });
      expect(none.status).to.equal(400);
    });

    it('setRunDelayHook pauses a submission before the job is registered', async () => {
      const jarId = await h.uploadJarId('TopSpeedWindowing.jar', STREAMING);
      const held: { release?: () => void } = {};
      h.flink.setRunDelayHook(() => new Promise<void>((resolve) => (held.release = resolve)));
      try {
        const pending = h.call('POST', `/jars/${jarId}/run`, { jobId: jobId('8') });
        while (!held.release) await sleep(5); // until the submission is held in the hook
        expect(h.flink.job(jobId('8'))).to.equal(undefined);
        held.release();
        expect((await pending).status).to.equal(200);
      } finally {
        h.flink.setRunDelayHook(null);
      }
    });
  });

  describe('faults', () => {
    const h = harness();

    it('unavailable: 503 with the leader-election message; refuse: the connection drops', async () => {
      h.flink.setOutage('unavailable');
      const res = await h.call('GET', '/overview');
      expect(res).to.deep.equal({
        status: 503,
        body: { errors: ['Service temporarily unavailable due to an ongoing leader election. Please refresh.'] },
      });
      h.flink.setOutage('refuse');
      let failed = false;
      await fetch(`${h.flink.url}/overview`).catch(() => (failed = true));
      expect(failed).to.equal(true);
      h.flink.setOutage('none');
      expect((await h.call('GET', '/overview')).status).to.equal(200);
    });

    it('setLatency delays answers', async () => {
      h.flink.setLatency(80);
      const t0 = Date.now();
      await h.call('GET', '/config');
      h.flink.setLatency(0);
      expect(Date.now() - t0).to.be.at.least(70);
    });

    it('restart: jobs 404, ids reusable, jars lost unless kept', async () => {
      const jarId = await h.uploadJarId('TopSpeedWindowing.jar', STREAMING);
      const jid = jobId('a');
      await h.call('POST', `/jars/${jarId}/run`, { jobId: jid });
      h.flink.restart({ keepJars: true });
      expect((await h.call('GET', `/jobs/${jid}`)).status).to.equal(404);
      expect((await h.call('POST', `/jars/${jarId}/run`, { jobId: jid })).status).to.equal(200);
      h.flink.restart();
      expect(h.flink.jarIds()).to.deep.equal([]);
      const lostJar = await h.call('POST', `/jars/${jarId}/run`, { jobId: jobId('b') });
      expect(lostJar.status).to.equal(500);
      expect(lostJar.body.errors?.[1]).to.match(/Jar file .* does not exist/);
    });

    it('forgetJob: the job vanishes, but its id stays taken', async () => {
      const jarId = await h.uploadJarId('TopSpeedWindowing.jar', STREAMING);
      const jid = jobId('c');
      await h.call('POST', `/jars/${jarId}/run`, { jobId: jid });
      h.flink.forgetJob(jid);
      expect((await h.call('GET', `/jobs/${jid}`)).status).to.equal(404);
      expect((await h.call('POST', `/jars/${jarId}/run`, { jobId: jid })).status).to.equal(400);
    });
  });

  describe('job status, cluster slots and configuration, jobs put on directly', () => {
    const h = harness({ slots: 8, defaultParallelism: 2 });

    it('GET /jobs/:jobid/status: 200 {status}; an unknown job is the unmapped 500 FlinkJobNotFoundException', async () => {
      const jarId = await h.uploadJarId('TopSpeedWindowing.jar', STREAMING);
      const jid = jobId('1');
      await h.call('POST', `/jars/${jarId}/run`, { jobId: jid });
      expect(await h.call('GET', `/v1/jobs/${jid.toUpperCase()}/status`)).to.deep.equal({
        status: 200,
        body: { status: 'RUNNING' },
      });
      const unknown = await h.call('GET', `/jobs/${jobId('2')}/status`);
      expect(unknown.status).to.equal(500);
      expect(unknown.body.errors?.[0]).to.equal('Internal server error.');
      expect(unknown.body.errors?.[1]).to.match(
        /^<Exception on server side:\norg\.apache\.flink\.runtime\.messages\.FlinkJobNotFoundException: Could not find Flink job \(2{32}\)\n\tat /,
      );
      expect((await h.call('GET', '/jobs/xyz/status')).status).to.equal(400);
      await h.call('PATCH', `/jobs/${jid}`);
      await h.waitForState(jid, 'CANCELED');
    });

    it('GET /jobmanager/config: string values, parallelism.default from the option', async () => {
      const res = await h.call('GET', '/jobmanager/config');
      expect(res.status).to.equal(200);
      const entries = res.body as unknown as { key: string; value: string }[];
      expect(entries).to.deep.include({ key: 'parallelism.default', value: '2' });
      expect(entries).to.deep.include({ key: 'rest.port', value: new URL(h.flink.url).port });
      expect(entries.map((e) => e.key)).to.include('jobmanager.rpc.address');
      for (const e of entries) expect(e.value).to.be.a('string');
    });

    it('/overview: slots-available = slots − parallelism of live jobs (default parallelism when none); setSlots', async () => {
      const slots = async () => {
        const body = (await h.call('GET', '/overview')).body;
        expect(body).not.to.have.any.keys('slots-free-and-blocked', 'taskmanagers-blocked');
        return [body['slots-total'], body['slots-available'], body['jobs-running']];
      };
      expect(await slots()).to.deep.equal([8, 8, 0]);
      const a = h.flink.addRunningJob({ jobId: jobId('3'), name: 'by hand', parallelism: 3 });
      expect(a.state).to.equal('RUNNING');
      h.flink.addRunningJob({ jobId: jobId('4').toUpperCase(), name: 'default parallelism' });
      expect(await slots()).to.deep.equal([8, 3, 2]);
      h.flink.setSlots(4);
      expect(await slots()).to.deep.equal([4, 0, 2]);
      h.flink.setJobState(jobId('3'), 'CANCELED');
      expect(await slots()).to.deep.equal([4, 2, 1]);
      expect(() => h.flink.setSlots(-1)).to.throw(RangeError);
    });

    it('addRunningJob: listed, id taken, no run logged; setJobState moves it, FAILED with a failure', async () => {
      const jid = jobId('5');
      const runs = h.flink.runRequests.length;
      h.flink.addRunningJob({ jobId: jid, name: 'HandMade' });
      expect(h.flink.runRequests).to.have.length(runs);
      expect(h.flink.submittedJobIds()).to.include(jid);
      const overview = await h.call('GET', '/jobs/overview');
      expect((overview.body.jobs as Record<string, unknown>[]).find((j) => j.jid === jid)).to.include({
        name: 'HandMade',
        state: 'RUNNING',
      });
      expect(() => h.flink.addRunningJob({ jobId: jid, name: 'again' })).to.throw(/already been submitted/);
      expect(() => h.flink.addRunningJob({ jobId: 'nope', name: 'x' })).to.throw(/not a JobID/);
      const jarId = await h.uploadJarId('TopSpeedWindowing.jar', STREAMING);
      expect((await h.call('POST', `/jars/${jarId}/run`, { jobId: jid })).status).to.equal(400);

      h.flink.setJobState(jid, 'RESTARTING');
      expect((await h.call('GET', `/jobs/${jid}/status`)).body).to.deep.equal({ status: 'RESTARTING' });
      h.flink.setJobState(jid, 'FAILED');
      h.flink.setJobState(jid, 'RUNNING'); // a terminal job stays terminal
      expect((await h.call('GET', `/jobs/${jid}`)).body.state).to.equal('FAILED');
      const exceptions = await h.call('GET', `/jobs/${jid}/exceptions`);
      expect(exceptions.body['root-exception']).to.contain('Caused by: java.lang.RuntimeException: boom');
      expect(() => h.flink.setJobState(jid, 'DONE')).to.throw(/JobStatus/);
      expect(() => h.flink.setJobState(jobId('6'), 'RUNNING')).to.throw(/knows no job/);
    });

    it('holds 10,000 running jobs and lists them quickly', async () => {
      const flink = new FlinkTestDouble();
      await flink.start();
      try {
        for (let i = 0; i < 10_000; i++) {
          flink.addRunningJob({ jobId: i.toString(16).padStart(32, '0'), name: `job-${i}` });
        }
        const t0 = Date.now();
        const res = await fetch(`${flink.url}/jobs/overview`);
        const body = (await res.json()) as { jobs: unknown[] };
        expect(body.jobs).to.have.length(10_000);
        const overview = (await (await fetch(`${flink.url}/overview`)).json()) as Record<string, number>;
        expect(overview).to.include({ 'jobs-running': 10_000, 'slots-available': 0 });
        expect(Date.now() - t0).to.be.below(2000);
      } finally {
        await flink.stop();
      }
    });
  });

  describe('without a configured savepoint directory', () => {
    const h = harness({ savepointDir: null });

    it('refuses a stop without targetDirectory', async () => {
      const jarId = await h.uploadJarId('TopSpeedWindowing.jar', STREAMING);
      await h.call('POST', `/jars/${jarId}/run`, { jobId: jobId('a') });
      const res = await h.call('POST', `/jobs/${jobId('a')}/stop`, {});
      expect(res.status).to.equal(400);
      expect(res.body.errors?.[0]).to.contain(
        'Config key [execution.checkpointing.savepoint-dir] is not set. Property [targetDirectory] must be provided.',
      );
      const dir = mkdtempSync(path.join(tmpdir(), 'flink-double-target-'));
      const ok = await h.call('POST', `/jobs/${jobId('a')}/stop`, { targetDirectory: dir });
      expect(ok.status).to.equal(202);
    });
  });

  describe('Flink 2.x', () => {
    const h = harness({ version: '2.1.0' });

    it('ignores programArgs, drops the deprecated exception fields, keeps the run answer', async () => {
      // No manifest class and a WordCount file name: a finishing job.
      const upload = await h.upload('my-WordCount.jar', '');
      const jarId = path.basename(String(upload.body.filename));
      const jid = jobId('a');
      const run = await h.call('POST', `/jars/${jarId}/run`, { jobId: jid, programArgs: '--in x' });
      expect(run).to.deep.equal({ status: 200, body: { jobid: jid } });
      expect(h.flink.job(jid)?.programArgs).to.deep.equal([]);
      await h.waitForState(jid, 'FINISHED');

      const other = jobId('b');
      await h.call('POST', `/jars/${jarId}/run`, { jobId: other, entryClass: 'com.example.Streaming' });
      h.flink.failJob(other);
      const res = await h.call('GET', `/jobs/${other}/exceptions`);
      expect(res.body).to.have.keys(['exceptionHistory']);
      const [entry] = (res.body.exceptionHistory as { entries: Record<string, unknown>[] }).entries;
      expect(entry?.stacktrace).to.contain('Caused by: java.lang.RuntimeException: boom');
      expect(entry).not.to.have.property('location');
      expect((await h.call('GET', `/jobs/${other}`)).body).to.have.property('pending-operators');
    });
  });

  describe('Flink 2.3', () => {
    const h = harness({ version: '2.3.0' });

    it('answers run with applicationId and a duplicate with the application text', async () => {
      const jarId = await h.uploadJarId('TopSpeedWindowing.jar', STREAMING);
      const jid = jobId('a');
      expect((await h.call('POST', `/jars/${jarId}/run`, { jobId: jid })).body).to.deep.equal({
        jobid: jid,
        applicationId: jid,
      });
      const dup = await h.call('POST', `/jars/${jarId}/run`, { jobId: jid });
      expect(dup.status).to.equal(400);
      expect(dup.body.errors?.[0]).to.contain('DuplicateApplicationSubmissionException: Application has already been');
    });
  });

  describe('buildTestJar', () => {
    it('writes a zip whose manifest names the class, wrapping long lines', () => {
      const longName = `com.example.${'very.'.repeat(20)}LongStreamingJob`;
      expect(manifestEntryClass(buildTestJar(longName))).to.equal(longName);
      const padded = buildTestJar(STREAMING, 4096);
      expect(padded.length).to.be.greaterThan(4096);
      expect(padded.subarray(0, 4).toString('hex')).to.equal('504b0304');
      expect(manifestEntryClass(padded)).to.equal(STREAMING);
    });
  });
});
