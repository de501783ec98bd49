import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { startApi } from '../support/api-process';
import { DataProcessor } from '../support/data-processor';
import { FlinkProxy } from '../support/flink-proxy';
import { Gate } from '../support/gate';
import { client, type Client } from '../support/http';
import { assertFlinkIntegrity, executionsOwning } from '../support/integrity';
import { TERMINAL } from '../support/pipeline-harness';
import { databaseUrl } from '../support/test-env';
import { GiveUp, waitFor } from '../support/wait';
import { WebhookReceiver } from '../support/webhook-receiver';
import { startWorkers, stopAll, type ServiceProcess } from '../support/worker-processes';
import { e2eVersions, startFlink } from './support/flink-cluster';

const WORD_COUNT = 'org.apache.flink.streaming.examples.wordcount.WordCount';
const TOP_SPEED = 'org.apache.flink.streaming.examples.windowing.TopSpeedWindowing';

const versions = e2eVersions();
const flinkIdOf = (executionId: string) => executionId.replace(/-/g, '');

for (const version of versions) {
  describe(`end to end against a real Flink ${version}`, function () {
    this.timeout(300_000);
    let flink: Awaited<ReturnType<typeof startFlink>>;
    // The workers talk to Flink through it: it records every run request, and can hold one's answer.
    let proxy: FlinkProxy;
    let api: Awaited<ReturnType<typeof startApi>>;
    let http: Client;
    let workers: ServiceProcess[] = [];
    const data = new DataProcessor();
    let jars: { wordCount: Buffer; topSpeed: Buffer };

    const flinkGet = async (p: string) => {
      const res = await fetch(`${flink.url}${p}`);
      return { status: res.status, body: (await res.json()) as any };
    };

    const addWorkers = (n: number, label: string) =>
      startWorkers(
        n,
        {
          flinkUrl: proxy.url,
          dataProcessorUrl: data.url,
          env: { SAVEPOINT_DIR: `file://${flink.dir}/savepoints`, RETRY_BACKOFF_MS: '500', POLL_INTERVAL_MS: '500' },
        },
        label,
      );

    before(async function () {
      this.timeout(900_000);
      flink = await startFlink(version);
      proxy = new FlinkProxy(flink.url);
      await proxy.start();
      jars = {
        wordCount: readFileSync(path.join(flink.examples, 'WordCount.jar')),
        topSpeed: readFileSync(path.join(flink.examples, 'TopSpeedWindowing.jar')),
      };
      await data.start();
      // With an ETag, as a static file server sends one: repeated starts download it once.
      data.serveJar('/WordCount.jar', jars.wordCount, { etag: `"wordcount-${flink.version}"` });
      data.serveJar('/TopSpeedWindowing.jar', jars.topSpeed);
      api = await startApi({ DATA_PROCESSOR_URL: data.url, FLINK_JOBMANAGER_URL: proxy.url });
      http = client(api.url);
      workers = await addWorkers(2, `e2e-${flink.version}`);
    });

    after(async function () {
      this.timeout(120_000);
      await stopAll(workers);
      await api?.close();
      await data.stop();
      await proxy?.stop();
      await flink?.stop();
    });

    // Exactly once and no orphan after every case: GET /jobs/overview of the real Flink
    // against PostgreSQL, and every run request the proxy saw.
    afterEach(() =>
      assertFlinkIntegrity({
        clusters: [{ name: 'default', flinkUrl: flink.url, runRequests: proxy.runRequests }],
        databaseUrl: databaseUrl(),
        context: `Flink ${version}`,
      }),
    );

    async function row(executionId: string) {
      const [found] = await executionsOwning(databaseUrl(), [flinkIdOf(executionId)]);
      return found;
    }

    let seq = 0;
    async function createJob(jarURL: string, entryClass: string | null, extra: Record<string, unknown> = {}) {
      const res = await http.post('/api/v1/jobs', {
        name: `e2e-${flink.version}-${++seq}-${Date.now()}`,
        jarURL,
        entryClass,
        ...extra,
      });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      return res.body;
    }

    async function start(jobId: string, body?: unknown) {
      const res = await http.post(`/api/v1/jobs/${jobId}/start`, body);
      expect(res.status, JSON.stringify(res.body)).to.equal(202);
      return res.body;
    }

    function waitForStatus(id: string, status: string, timeoutMs = 120_000) {
      return waitFor(
        `execution ${id} to be ${status}`,
        async () => {
          const e = (await http.get(`/api/v1/executions/${id}`)).body;
          if (e.status === status) return e;
          if (TERMINAL.includes(e.status))
            throw new GiveUp(`execution ${id} ended ${e.status} (${e.errorMessage}), expected ${status}`);
          return undefined;
        },
        timeoutMs,
        250,
      );
    }

    async function flinkJobsWithId(jid: string): Promise<number> {
      const overview = await flinkGet('/jobs/overview');
      return overview.body.jobs.filter((j: { jid: string }) => j.jid === jid).length;
    }

    it("1. WordCount: start → RUNNING → FINISHED, with Flink's job id recorded", async () => {
      const job = await createJob('WordCount.jar', WORD_COUNT);
      const execution = await start(job.id);
      const finished = await waitForStatus(execution.id, 'FINISHED');
      expect(finished.flinkJobId).to.match(/^[0-9a-f]{32}$/);
      expect(finished.startedAt).to.be.a('string');
      // Flink serves a job's details from a cache (`web.refresh-interval`, 3 s), while the job
      // list the observer reads is fresh: the details may say RUNNING for a moment more.
      await waitFor('Flink to show the job FINISHED', async () => {
        const onFlink = await flinkGet(`/jobs/${finished.flinkJobId}`);
        return onFlink.status === 200 && onFlink.body.state === 'FINISHED';
      });
    });

    it('2. TopSpeedWindowing: start → RUNNING; stop → CANCELLED; Flink shows CANCELED', async () => {
      const job = await createJob('TopSpeedWindowing.jar', TOP_SPEED);
      const execution = await start(job.id);
      const running = await waitForStatus(execution.id, 'RUNNING');
      expect((await flinkGet(`/jobs/${running.flinkJobId}`)).body.state).to.equal('RUNNING');
      expect((await http.post(`/api/v1/jobs/${job.id}/stop`)).status).to.equal(202);
      await waitForStatus(execution.id, 'CANCELLED');
      expect((await flinkGet(`/jobs/${running.flinkJobId}`)).body.state).to.equal('CANCELED');
    });

    it('3. stop with savepoint → STOPPED with a savepoint on disk; restoreFrom latest-savepoint restores from it', async () => {
      const job = await createJob('TopSpeedWindowing.jar', TOP_SPEED);
      const first = await start(job.id);
      const firstRunning = await waitForStatus(first.id, 'RUNNING');
      // Progress worth saving: Flink counts records the source has sent on.
      await waitFor(
        'the job to have processed records',
        async () => {
          const detail = await flinkGet(`/jobs/${firstRunning.flinkJobId}`);
          const vertices = (detail.body?.vertices ?? []) as { metrics?: Record<string, number> }[];
          return vertices.some((v) => (v.metrics?.['write-records'] ?? 0) > 0);
        },
        60_000,
        500,
      );
      expect((await http.post(`/api/v1/jobs/${job.id}/stop`, { savepoint: true })).status).to.equal(202);
      const stopped = await waitForStatus(first.id, 'STOPPED');
      expect(stopped.savepointLocation).to.be.a('string');
      const onDisk = stopped.savepointLocation.startsWith('file:')
        ? fileURLToPath(stopped.savepointLocation)
        : stopped.savepointLocation;
      expect(existsSync(onDisk), onDisk).to.equal(true);
      expect((await flinkGet(`/jobs/${stopped.flinkJobId}`)).body.state).to.equal('FINISHED');

      const second = await start(job.id, { restoreFrom: 'latest-savepoint' });
      expect(second.savepointPath).to.equal(stopped.savepointLocation);
      const running = await waitForStatus(second.id, 'RUNNING');
      const restored = await waitFor(
        'Flink to report the restore',
        async () => {
          const stats = await flinkGet(`/jobs/${running.flinkJobId}/checkpoints`);
          return stats.body?.latest?.restored?.external_path as string | undefined;
        },
        60_000,
        500,
      );
      expect(restored.replace(/^file:/, '').replace(/\/$/, '')).to.equal(
        stopped.savepointLocation.replace(/^file:/, '').replace(/\/$/, ''),
      );
      await http.post(`/api/v1/jobs/${job.id}/stop`);
      await waitForStatus(second.id, 'CANCELLED');
    });

    it("4. a wrong entry class → FAILED with Flink's message; a program that throws in main → FAILED with the cause", async () => {
      const wrong = await createJob('WordCount.jar', 'com.example.DoesNotExist');
      const failed = await waitForStatus((await start(wrong.id)).id, 'FAILED');
      expect(failed.errorMessage).to.contain('com.example.DoesNotExist');
      expect(failed.errorMessage).not.to.contain('\n');

      const throwing = await createJob('WordCount.jar', WORD_COUNT, { config: { 'execution-mode': 'NOT_A_MODE' } });
      const thrown = await waitForStatus((await start(throwing.id)).id, 'FAILED');
      expect(thrown.errorMessage).to.match(/NOT_A_MODE/);
      expect(thrown.errorMessage).not.to.contain('\n');
    });

    it("5. the same JAR started five times → one upload in Flink's GET /jars, at most one download", async () => {
      const job = await createJob('WordCount.jar', WORD_COUNT);
      const jarIds = new Set<string>();
      const downloadsBefore = data.downloads.get('/WordCount.jar') ?? 0;
      for (let i = 0; i < 5; i++) {
        const done = await waitForStatus((await start(job.id)).id, 'FINISHED');
        jarIds.add(done.flinkJarId);
      }
      expect(jarIds.size).to.equal(1);
      // The other four (all five, when an earlier case fetched it) were answered 304.
      expect((data.downloads.get('/WordCount.jar') ?? 0) - downloadsBefore).to.be.at.most(1);
      const listed = (await flinkGet('/jars')).body.files.filter((f: { name: string }) => f.name === 'WordCount.jar');
      expect(listed).to.have.length(1);
      expect(listed[0].id).to.equal([...jarIds][0]);
    });

    it('6. the worker killed mid-download → a new worker downloads again and submits: one run request, one Flink job', async () => {
      const gate = new Gate();
      data.serveJar('/HeldTopSpeed.jar', jars.topSpeed, { gate });
      const job = await createJob('HeldTopSpeed.jar', TOP_SPEED);
      await stopAll(workers);
      workers = await addWorkers(1, `e2e-${flink.version}-victim`);
      const execution = await start(job.id);
      await waitFor('the download to be held halfway', () => gate.held.length === 1, 30_000);
      expect(await row(execution.id)).to.include({ status: 'SUBMITTING', runRequestedAt: null });
      expect(proxy.runRequestsFor(flinkIdOf(execution.id))).to.deep.equal([]);
      await workers[0]?.kill('SIGKILL');
      gate.open();
      workers = await addWorkers(2, `e2e-${flink.version}-after-kill`);
      const running = await waitForStatus(execution.id, 'RUNNING');
      expect(gate.count('/HeldTopSpeed.jar'), 'downloads').to.equal(2);
      expect(proxy.runRequestsFor(running.flinkJobId).map((r) => r.outcome)).to.deep.equal(['accepted']);
      expect(await flinkJobsWithId(running.flinkJobId)).to.equal(1);
      await http.post(`/api/v1/jobs/${job.id}/stop`);
      await waitForStatus(execution.id, 'CANCELLED');
    });

    it('7. the worker killed after Flink answered its run request → Flink runs it once; a new worker finds it: RUNNING', async () => {
      const gate = new Gate();
      proxy.setRunAnswerHook(gate.pass);
      try {
        const job = await createJob('TopSpeedWindowing.jar', TOP_SPEED);
        await stopAll(workers);
        workers = await addWorkers(1, `e2e-${flink.version}-victim-after-run`);
        const execution = await start(job.id);
        const jid = flinkIdOf(execution.id);
        await waitFor('Flink to answer the run request', () => gate.held.length === 1, 120_000);
        // The stage: Flink took the job (200), the worker has not heard, the record says SUBMITTING.
        expect(gate.held).to.deep.equal([jid]);
        expect(proxy.runRequestsFor(jid).map((r) => [r.status, r.outcome])).to.deep.equal([[200, 'accepted']]);
        expect((await flinkGet(`/jobs/${jid}`)).status).to.equal(200);
        expect((await row(execution.id))?.status).to.equal('SUBMITTING');
        await workers[0]?.kill('SIGKILL');
        gate.open();
        workers = await addWorkers(2, `e2e-${flink.version}-after-run-kill`);
        await waitForStatus(execution.id, 'RUNNING');
        // The new worker asked Flink first and sent no second run request.
        expect(proxy.runRequestsFor(jid).map((r) => [r.outcome, r.delivered])).to.deep.equal([['accepted', false]]);
        const onFlink = (await flinkGet('/jobs/overview')).body.jobs.filter((j: { jid: string }) => j.jid === jid);
        expect(onFlink.map((j: { state: string }) => j.state)).to.deep.equal(['RUNNING']);
        await http.post(`/api/v1/jobs/${job.id}/stop`);
        await waitForStatus(execution.id, 'CANCELLED');
      } finally {
        proxy.setRunAnswerHook(null);
      }
    });

    it('8. a schedule every 10 s until three ticks → 3 (or 4) executions 10 s apart on Flink, each submitted once', async () => {
      const job = await createJob('WordCount.jar', WORD_COUNT);
      expect(
        (await http.post(`/api/v1/jobs/${job.id}/schedule`, { cron: '*/10 * * * * *', overlap: 'allow' })).status,
      ).to.equal(200);
      const executionsOf = async () => (await http.get(`/api/v1/jobs/${job.id}/executions`)).body as any[];
      await waitFor('three scheduled executions', async () => (await executionsOf()).length >= 3, 60_000, 500);
      expect((await http.delete(`/api/v1/jobs/${job.id}/schedule`)).status).to.equal(204);
      const executions = await executionsOf();
      // A fourth tick may have fired between the last look and the delete.
      expect(executions.length).to.be.within(3, 4);
      const ticks = executions.map((e) => new Date(e.scheduledFor).getTime()).sort((a, b) => a - b);
      expect(new Set(ticks).size).to.equal(executions.length);
      // One tick per 10 s boundary, none skipped.
      for (const [i, at] of ticks.entries()) {
        expect(at % 10_000, new Date(at).toISOString()).to.equal(0);
        if (i > 0) expect(at - (ticks[i - 1] as number)).to.equal(10_000);
      }
      for (const e of executions) {
        const done = await waitForStatus(e.id, 'FINISHED');
        // No crash here: one run request each, which Flink accepted (the JobIDs Flink lists are unique anyway).
        expect(proxy.runRequestsFor(done.flinkJobId).map((r) => r.outcome)).to.deep.equal(['accepted']);
      }
    });

    it('9. JobManager restart that loses the jars → running executions LOST; the next start uploads again', async () => {
      const job = await createJob('TopSpeedWindowing.jar', TOP_SPEED);
      const old = await waitForStatus((await start(job.id)).id, 'RUNNING');
      await flink.restartJobManager(true);
      const lost = await waitForStatus(old.id, 'LOST');
      expect(lost.errorMessage).to.match(/no longer knows/);
      const next = await waitForStatus((await start(job.id)).id, 'RUNNING');
      expect(next.flinkJarId).not.to.equal(old.flinkJarId);
      const listed = (await flinkGet('/jars')).body.files.map((f: { id: string }) => f.id);
      expect(listed).to.include(next.flinkJarId);
      await http.post(`/api/v1/jobs/${job.id}/stop`);
      await waitForStatus(next.id, 'CANCELLED');
    });

    it("10. validate: a wrong entry class → 422 with Flink's message; the right one → 200 with its plan; nothing runs", async () => {
      const jobsBefore = (await flinkGet('/jobs/overview')).body.jobs.length;
      const wrong = await createJob('WordCount.jar', 'com.example.DoesNotExist');
      const refused = await http.post(`/api/v1/jobs/${wrong.id}/validate`);
      expect(refused.status, JSON.stringify(refused.body)).to.equal(422);
      expect(refused.body.error.code).to.equal('validation_failed_on_flink');
      expect(refused.body.error.message).to.contain('com.example.DoesNotExist');

      const right = await createJob('WordCount.jar', WORD_COUNT);
      const accepted = await http.post(`/api/v1/jobs/${right.id}/validate`);
      expect(accepted.status, JSON.stringify(accepted.body)).to.equal(200);
      expect(accepted.body).to.deep.include({ valid: true, cluster: 'default' });
      expect(accepted.body.plan.operators).to.be.at.least(1);
      expect(accepted.body.operators).to.have.length(accepted.body.plan.operators);
      const listed = (await flinkGet('/jars')).body.files.map((f: { id: string }) => f.id);
      expect(listed).to.include(accepted.body.jarId);
      // Planned, never submitted: Flink lists no new job, and no execution was made.
      expect((await flinkGet('/jobs/overview')).body.jobs.length).to.equal(jobsBefore);
      expect((await http.get(`/api/v1/jobs/${right.id}/executions`)).body).to.deep.equal([]);
    });

    it("11. a job that fails at run time (WordCount reading a path that does not exist) → FAILED with Flink's root cause", async () => {
      const missing = `/tmp/fo-e2e-no-such-input-${Date.now()}`;
      const job = await createJob('WordCount.jar', WORD_COUNT, { config: { input: missing } });
      const failed = await waitForStatus((await start(job.id)).id, 'FAILED');
      expect(failed.flinkJobId).to.match(/^[0-9a-f]{32}$/);
      expect(failed.errorMessage).to.contain(missing);
      expect(failed.errorMessage).not.to.contain('\n');
      // No restart policy: nothing replaces it.
      expect(failed.restart).to.equal(null);
    });

    it('12. restart on failure: the TaskManager killed → FAILED; the restart runs once a TaskManager is back, resumed from the retained checkpoint', async () => {
      const job = await createJob('TopSpeedWindowing.jar', TOP_SPEED, {
        restartPolicy: { onFailure: 'restart', backoffSeconds: 1 },
      });
      const first = await waitForStatus((await start(job.id)).id, 'RUNNING');
      // The test cluster checkpoints every 2 s and retains checkpoints (see flink-cluster.sh).
      await waitFor(
        'a completed checkpoint',
        async () => (await flinkGet(`/jobs/${first.flinkJobId}/checkpoints`)).body?.latest?.completed?.external_path,
        60_000,
        500,
      );
      await flink.killTaskManager();
      let failed: any;
      try {
        failed = await waitForStatus(first.id, 'FAILED');
        failed = await waitFor('the restart decision', async () => {
          const e = (await http.get(`/api/v1/executions/${first.id}`)).body;
          return e.restart ? e : undefined;
        });
        expect(failed.restart).to.deep.include({ decision: 'restarted' });
        expect(failed.restart.restoreFrom.kind).to.equal('checkpoint');
        const restart = (await http.get(`/api/v1/executions/${failed.restart.executionId}`)).body;
        expect(restart).to.include({ trigger: 'restart', restartOf: first.id });
        // It waits QUEUED for slots when the JobManager already counts the TaskManager gone, or
        // (the ResourceManager notices a lost TaskManager later than the job fails) waits on
        // Flink for resources: either way it runs once a TaskManager is back.
      } finally {
        await flink.startTaskManager();
      }
      const checkpoint: string = failed.restart.restoreFrom.path;
      expect(checkpoint).to.match(new RegExp(`/checkpoints/${first.flinkJobId}/chk-\\d+$`));
      const onDisk = checkpoint.startsWith('file:')
        ? fileURLToPath(checkpoint.replace(/^file:\/*/, 'file:///'))
        : checkpoint;
      expect(existsSync(onDisk), onDisk).to.equal(true);

      const second = await waitForStatus(failed.restart.executionId, 'RUNNING');
      expect(second.savepointPath).to.equal(checkpoint);
      const restored = await waitFor(
        'Flink to report the restore',
        async () =>
          (await flinkGet(`/jobs/${second.flinkJobId}/checkpoints`)).body?.latest?.restored?.external_path as
            string | undefined,
        60_000,
        500,
      );
      const bare = (p: string) => p.replace(/^file:\/*/, '/').replace(/\/$/, '');
      expect(bare(restored)).to.equal(bare(checkpoint));
      await http.post(`/api/v1/jobs/${job.id}/stop`);
      await waitForStatus(second.id, 'CANCELLED');
    });

    it('13. savepoints as records: two taken while running (the job runs on), the older disposed of through Flink: its directory is gone', async () => {
      const job = await createJob('TopSpeedWindowing.jar', TOP_SPEED);
      // Asked at once: the worker waits for the job's tasks to run before it asks Flink.
      const running = await waitForStatus((await start(job.id)).id, 'RUNNING');
      const take = async () => {
        const res = await http.post(`/api/v1/jobs/${job.id}/savepoints`);
        expect(res.status, JSON.stringify(res.body)).to.equal(202);
        return waitFor(
          'the savepoint to complete',
          async () => {
            const s = (await http.get(`/api/v1/jobs/${job.id}/savepoints/${res.body.id}`)).body;
            if (s.status === 'FAILED') throw new GiveUp(`savepoint failed: ${s.errorMessage}`);
            return s.status === 'COMPLETED' ? s : undefined;
          },
          120_000,
          250,
        );
      };
      const older = await take();
      const newer = await take();
      const local = (location: string) => fileURLToPath(location.replace(/^file:\/*/, 'file:///'));
      for (const s of [older, newer]) {
        expect(s.location).to.match(/\/savepoint-[0-9a-f]{6}-[0-9a-f]{12}$/);
        expect(existsSync(local(s.location)), s.location).to.equal(true);
      }
      expect((await flinkGet(`/jobs/${running.flinkJobId}`)).body.state).to.equal('RUNNING');
      expect((await http.get(`/api/v1/executions/${running.id}`)).body.savepoints).to.deep.equal([older.id, newer.id]);

      const asked = await http.delete(`/api/v1/jobs/${job.id}/savepoints/${older.id}`);
      expect(asked.status, JSON.stringify(asked.body)).to.equal(202);
      const disposed = await waitFor(
        'Flink to dispose of it',
        async () => {
          const s = (await http.get(`/api/v1/jobs/${job.id}/savepoints/${older.id}`)).body;
          if (s.disposalError) throw new GiveUp(`disposal failed: ${s.disposalError}`);
          return s.disposedAt ? s : undefined;
        },
        60_000,
        250,
      );
      expect(disposed.status).to.equal('COMPLETED');
      expect(existsSync(local(older.location)), older.location).to.equal(false);
      expect(existsSync(local(newer.location)), newer.location).to.equal(true);
      // The newest is never disposed of.
      expect((await http.delete(`/api/v1/jobs/${job.id}/savepoints/${newer.id}`)).status).to.equal(409);

      await http.post(`/api/v1/jobs/${job.id}/stop`);
      await waitForStatus(running.id, 'CANCELLED');
    });

    it('14. an upgrade to new program arguments keeps state: the new job restores from the upgrade savepoint', async () => {
      const job = await createJob('TopSpeedWindowing.jar', TOP_SPEED);
      const old = await waitForStatus((await start(job.id)).id, 'RUNNING');
      // A stop with a savepoint needs the job's tasks running: a completed checkpoint says they are.
      await waitFor(
        'a completed checkpoint',
        async () => (await flinkGet(`/jobs/${old.flinkJobId}/checkpoints`)).body?.latest?.completed?.external_path,
        60_000,
        500,
      );
      const asked = await http.post(`/api/v1/jobs/${job.id}/upgrade`, { config: { 'execution-mode': 'STREAMING' } });
      expect(asked.status, JSON.stringify(asked.body)).to.equal(202);
      const upgrade = await waitFor(
        'the upgrade to finish',
        async () => {
          const u = (await http.get(`/api/v1/upgrades/${asked.body.id}`)).body;
          return u.status === 'IN_PROGRESS' ? undefined : u;
        },
        180_000,
        500,
      );
      expect(upgrade.status, JSON.stringify(upgrade)).to.equal('COMPLETED');
      expect((await http.get(`/api/v1/executions/${old.id}`)).body.status).to.equal('STOPPED');
      const started = (await http.get(`/api/v1/executions/${upgrade.toExecutionId}`)).body;
      expect(started).to.include({ trigger: 'upgrade', savepointPath: upgrade.savepointLocation });
      expect(started.definition.programArgs).to.deep.equal(['--execution-mode', 'STREAMING']);
      const restored = await waitFor(
        'Flink to report the restore',
        async () =>
          (await flinkGet(`/jobs/${started.flinkJobId}/checkpoints`)).body?.latest?.restored?.external_path as
            string | undefined,
        60_000,
        500,
      );
      const bare = (p: string) => p.replace(/^file:\/*/, '/').replace(/\/$/, '');
      expect(bare(restored)).to.equal(bare(upgrade.savepointLocation));
      const savepoint = (await http.get(`/api/v1/jobs/${job.id}/savepoints/${upgrade.savepointId}`)).body;
      expect(savepoint).to.include({ kind: 'upgrade', status: 'COMPLETED' });
      await http.post(`/api/v1/jobs/${job.id}/stop`);
      await waitForStatus(started.id, 'CANCELLED');
    });

    /** A job's savepoint records, oldest first. */
    const savepointsOf = async (jobId: string): Promise<any[]> =>
      ((await http.get(`/api/v1/jobs/${jobId}/savepoints?limit=100`)).body as any[]).slice().reverse();
    const local = (location: string) => fileURLToPath(location.replace(/^file:\/*/, 'file:///'));
    const bare = (p: string) => p.replace(/^file:\/*/, '/').replace(/\/$/, '');
    const checkpointed = (flinkJobId: string) =>
      waitFor(
        'a completed checkpoint',
        async () => (await flinkGet(`/jobs/${flinkJobId}/checkpoints`)).body?.latest?.completed?.external_path,
        60_000,
        500,
      );
    const restoredFrom = (flinkJobId: string) =>
      waitFor(
        'Flink to report the restore',
        async () =>
          (await flinkGet(`/jobs/${flinkJobId}/checkpoints`)).body?.latest?.restored?.external_path as
            string | undefined,
        60_000,
        500,
      );
    async function addSchedule(jobId: string, body: Record<string, unknown>): Promise<string> {
      const res = await http.post(`/api/v1/jobs/${jobId}/schedules`, body);
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      return res.body.id as string;
    }

    it('15. periodic savepoints: a savepoint schedule records COMPLETED savepoints at the locations Flink gave, the job running on', async () => {
      const job = await createJob('TopSpeedWindowing.jar', TOP_SPEED);
      const running = await waitForStatus((await start(job.id)).id, 'RUNNING');
      await checkpointed(running.flinkJobId);
      const schedule = await addSchedule(job.id, { action: 'savepoint', cron: '*/4 * * * * *' });
      const taken = await waitFor(
        'two periodic savepoints',
        async () => {
          const done = (await savepointsOf(job.id)).filter((s) => s.kind === 'periodic' && s.status === 'COMPLETED');
          return done.length >= 2 ? done : undefined;
        },
        90_000,
        500,
      );
      expect((await http.delete(`/api/v1/jobs/${job.id}/schedules/${schedule}`)).status).to.equal(204);
      for (const s of taken) {
        expect(s).to.include({ executionId: running.id });
        expect(s.location).to.match(/\/savepoint-[0-9a-f]{6}-[0-9a-f]{12}$/);
        expect(existsSync(local(s.location)), s.location).to.equal(true);
      }
      // Flink's own record of its newest savepoint is one of ours.
      const latest = (await flinkGet(`/jobs/${running.flinkJobId}/checkpoints`)).body?.latest?.savepoint?.external_path;
      expect(taken.map((s) => bare(s.location))).to.include(bare(latest));
      expect((await flinkGet(`/jobs/${running.flinkJobId}`)).body.state).to.equal('RUNNING');
      await http.post(`/api/v1/jobs/${job.id}/stop`);
      await waitForStatus(running.id, 'CANCELLED');
    });

    it('16. a stop window: stopped with a savepoint at its stop tick, a start by hand refused inside it, started from that savepoint at its start tick', async () => {
      const job = await createJob('TopSpeedWindowing.jar', TOP_SPEED);
      const first = await waitForStatus((await start(job.id)).id, 'RUNNING');
      await checkpointed(first.flinkJobId);
      // Windows from :00 to :20 and from :30 to :50 of every minute.
      const stop = await addSchedule(job.id, { action: 'stop', cron: '0,30 * * * * *', savepoint: true });
      const startAt = await addSchedule(job.id, {
        action: 'start',
        cron: '20,50 * * * * *',
        restoreFrom: 'latest-savepoint',
      });
      try {
        const stopped = await waitForStatus(first.id, 'STOPPED', 90_000);
        expect(stopped.savepointLocation).to.be.a('string');
        const refused = await http.post(`/api/v1/jobs/${job.id}/start`);
        expect(refused.status, JSON.stringify(refused.body)).to.equal(409);
        expect(refused.body.error.code).to.equal('in_stop_window');
        const next = await waitFor(
          'the start tick',
          async () => {
            const rows = (await http.get(`/api/v1/jobs/${job.id}/executions?limit=5`)).body as any[];
            return rows.find((r) => r.id !== first.id && r.trigger === 'schedule' && r.status !== 'SKIPPED');
          },
          60_000,
          250,
        );
        // The next stop tick is ten seconds on: the schedules go before it.
        await http.delete(`/api/v1/jobs/${job.id}/schedules/${stop}`);
        await http.delete(`/api/v1/jobs/${job.id}/schedules/${startAt}`);
        expect(next.savepointPath).to.equal(stopped.savepointLocation);
        const second = await waitForStatus(next.id, 'RUNNING');
        expect(bare(await restoredFrom(second.flinkJobId))).to.equal(bare(stopped.savepointLocation));
        await http.post(`/api/v1/jobs/${job.id}/stop`);
        await waitForStatus(second.id, 'CANCELLED');
      } finally {
        await http.delete(`/api/v1/jobs/${job.id}/schedules/${stop}`);
        await http.delete(`/api/v1/jobs/${job.id}/schedules/${startAt}`);
      }
    });

    it("17. a webhook for a real failure: execution.failed delivered, signed off by the receiver, with Flink's root cause", async () => {
      const receiver = await new WebhookReceiver().start();
      try {
        const missing = `/tmp/fo-e2e-webhook-no-input-${Date.now()}`;
        const job = await createJob('WordCount.jar', WORD_COUNT, { config: { input: missing } });
        const hook = await http.post('/api/v1/webhooks', {
          url: receiver.url,
          events: ['execution.failed'],
          jobId: job.id,
        });
        expect(hook.status, JSON.stringify(hook.body)).to.equal(201);
        const failed = await waitForStatus((await start(job.id)).id, 'FAILED');
        const event = await waitFor(
          'the execution.failed delivery',
          () => receiver.events().find((e) => e.executionId === failed.id),
          60_000,
          250,
        );
        expect(event).to.include({ type: 'execution.failed', jobId: job.id });
        expect(String(event.data.error)).to.contain(missing);
        expect(
          receiver
            .events()
            .filter((e) => e.jobId === job.id)
            .map((e) => e.type),
        ).to.deep.equal(['execution.failed']);
        await http.delete(`/api/v1/webhooks/${hook.body.id}`);
      } finally {
        await receiver.stop();
      }
    });

    it('18. an upgrade to another JAR keeps state: uploaded, planned, started from the upgrade savepoint', async () => {
      // The same program in a JAR with other bytes: a new file in it.
      const dir = mkdtempSync(path.join(tmpdir(), 'fo-e2e-jar-'));
      const v2 = path.join(dir, 'TopSpeedWindowing-v2.jar');
      writeFileSync(v2, jars.topSpeed);
      writeFileSync(path.join(dir, 'RELEASE.txt'), 'v2\n');
      execFileSync('jar', ['uf', v2, '-C', dir, 'RELEASE.txt']);
      data.serveJar(`/TopSpeedWindowing-v2-${flink.version}.jar`, readFileSync(v2));
      rmSync(dir, { recursive: true, force: true });

      const job = await createJob('TopSpeedWindowing.jar', TOP_SPEED);
      const old = await waitForStatus((await start(job.id)).id, 'RUNNING');
      await checkpointed(old.flinkJobId);
      const asked = await http.post(`/api/v1/jobs/${job.id}/upgrade`, {
        jarURL: `TopSpeedWindowing-v2-${flink.version}.jar`,
      });
      expect(asked.status, JSON.stringify(asked.body)).to.equal(202);
      const upgrade = await waitFor(
        'the upgrade to finish',
        async () => {
          const u = (await http.get(`/api/v1/upgrades/${asked.body.id}`)).body;
          return u.status === 'IN_PROGRESS' ? undefined : u;
        },
        180_000,
        500,
      );
      expect(upgrade.status, JSON.stringify(upgrade)).to.equal('COMPLETED');
      const started = (await http.get(`/api/v1/executions/${upgrade.toExecutionId}`)).body;
      expect(started.definition.jarURL).to.contain(`TopSpeedWindowing-v2-${flink.version}.jar`);
      expect(started.flinkJarId).to.not.equal(old.flinkJarId);
      const listed = (await flinkGet('/jars')).body.files.map((f: { id: string }) => f.id);
      expect(listed).to.include(started.flinkJarId);
      expect(started.savepointPath).to.equal(upgrade.savepointLocation);
      expect(bare(await restoredFrom(started.flinkJobId))).to.equal(bare(upgrade.savepointLocation));
      await http.post(`/api/v1/jobs/${job.id}/stop`);
      await waitForStatus(started.id, 'CANCELLED');
    });
  });
}
