import { randomUUID } from 'node:crypto';
import { buildTestJar } from '@flink-orchestrator/flink-test-double';
import { expect } from 'chai';
import { Gate } from '../support/gate';
import { assertHarnessIntegrity, executionsOwning } from '../support/integrity';
import { PipelineHarness } from '../support/pipeline-harness';
import { holdRunRequests } from '../support/run-gate';
import { waitFor } from '../support/wait';
import type { ServiceProcess } from '../support/worker-processes';
import { checkInvariants } from './support/invariants';

const STREAMING = 'org.apache.flink.streaming.examples.windowing.TopSpeedWindowing';
const TRIALS = Number(process.env.FAULT_TRIALS ?? 10);

const flinkIdOf = (executionId: string) => executionId.replace(/-/g, '');

/**
 * Each case holds every execution at one pipeline stage with a gate (in the data-processor
 * or the Flink double), checks that every one of them is really there, SIGKILLs both
 * workers, and lets two new workers finish the work.
 */
describe(`fault: SIGKILL both workers in each pipeline stage, ${TRIALS} executions each`, function () {
  this.timeout(300_000);
  const h = new PipelineHarness({
    workers: 2,
    workerEnv: { WORKER_CONCURRENCY: '20' },
  });
  before(() => h.start());
  after(async () => {
    h.flink.setRunDelayHook(null);
    h.flink.setRunAnswerHook(null);
    h.flink.setUploadHook(null);
    h.flink.setSavepointHook(null);
    await h.stop();
  });
  // Exactly once and no orphan, at the end of every case, whatever it asserted itself.
  afterEach(() => assertHarnessIntegrity(h));

  async function killAllWorkers(): Promise<void> {
    const victims = h.workers.splice(0);
    await Promise.all(victims.map((w: ServiceProcess) => w.kill('SIGKILL')));
  }
  const replaceWorkers = async () => h.workers.push(...(await h.addWorkers(2)));

  /** Jobs with a JAR each (content no other job has, so each is uploaded); `gate` holds their downloads. */
  let jarsMade = 0;
  async function jobs(count: number, gate?: Gate): Promise<{ id: string; path: string }[]> {
    const created = [];
    for (let i = 0; i < count; i++) {
      const bytes = buildTestJar(STREAMING, 50_000 + jarsMade++);
      const path = `/jars/fault-${randomUUID().slice(0, 8)}.jar`;
      const jarURL = h.data.serveJar(path, bytes, gate ? { gate } : {});
      created.push({ ...(await h.createJob(STREAMING, { jarURL }, undefined)), path });
    }
    return created;
  }

  /** The rows as PostgreSQL has them (the API does not show run_requested_at). */
  const rows = (executions: { id: string }[]) =>
    executionsOwning(
      h.databaseUrl,
      executions.map((e) => flinkIdOf(e.id)),
    );

  async function cleanUp(jobList: { id: string }[], executions: { id: string }[]): Promise<void> {
    for (const job of jobList) await h.http.post(`/api/v1/jobs/${job.id}/stop`);
    for (const e of executions) await h.waitForStatus(e.id, 'CANCELLED', 60_000);
  }

  const results: Record<string, Record<string, number>> = {};
  after(() => process.stdout.write(`      worker-kill results: ${JSON.stringify(results)}\n`));

  it('download: killed with half of every JAR received', async () => {
    const gate = new Gate();
    const list = await jobs(TRIALS, gate);
    const executions = await Promise.all(list.map((j) => h.start202(j.id)));
    await waitFor('every download to be held halfway', () => gate.held.length === TRIALS);
    expect(new Set(gate.held)).to.deep.equal(new Set(list.map((j) => j.path)));
    // The stage: SUBMITTING, nothing uploaded for them, no run request.
    for (const row of await rows(executions)) expect(row).to.include({ status: 'SUBMITTING', runRequestedAt: null });
    expect(executions.flatMap((e) => h.flink.runRequestsFor(flinkIdOf(e.id)))).to.deep.equal([]);
    await killAllWorkers();
    gate.open();
    await replaceWorkers();
    for (const e of executions) await h.waitForStatus(e.id, 'RUNNING', 90_000);
    results.download = await checkInvariants(
      h,
      executions.map((e) => e.id),
    );
    expect(results.download).to.deep.equal({ RUNNING: TRIALS });
    for (const j of list) expect(gate.count(j.path), `downloads of ${j.path}`).to.equal(2);
    for (const e of executions) expect(h.flink.runRequestsFor(flinkIdOf(e.id))).to.have.length(1);
    await cleanUp(list, executions);
  });

  it('upload: killed while Flink holds every upload unanswered', async () => {
    const gate = new Gate();
    h.flink.setUploadHook(gate.pass);
    const list = await jobs(TRIALS);
    const names = list.map((j) => j.path.split('/').pop() as string);
    try {
      const executions = await Promise.all(list.map((j) => h.start202(j.id)));
      await waitFor('every upload to be held', () => gate.held.length === TRIALS, 60_000);
      expect(new Set(gate.held)).to.deep.equal(new Set(names));
      for (const row of await rows(executions)) expect(row).to.include({ status: 'SUBMITTING', runRequestedAt: null });
      expect(executions.flatMap((e) => h.flink.runRequestsFor(flinkIdOf(e.id)))).to.deep.equal([]);
      await killAllWorkers();
      gate.open();
      await replaceWorkers();
      for (const e of executions) await h.waitForStatus(e.id, 'RUNNING', 90_000);
      results.upload = await checkInvariants(
        h,
        executions.map((e) => e.id),
      );
      expect(results.upload).to.deep.equal({ RUNNING: TRIALS });
      // The killed worker never heard its upload's answer, so the new one uploaded again.
      for (const name of names) expect(gate.count(name), `uploads of ${name}`).to.equal(2);
      for (const e of executions) expect(h.flink.runRequestsFor(flinkIdOf(e.id))).to.have.length(1);
      await cleanUp(list, executions);
    } finally {
      h.flink.setUploadHook(null);
    }
  });

  it('run: killed while Flink holds every run request before taking the job', async () => {
    const list = await jobs(TRIALS);
    const held = holdRunRequests(h.flink);
    const executions = await Promise.all(list.map((j) => h.start202(j.id)));
    await waitFor('every run request to reach Flink', () => held.arrived() >= TRIALS, 60_000);
    expect(new Set(held.jobIds())).to.deep.equal(new Set(executions.map((e) => flinkIdOf(e.id))));
    expect(h.flink.submittedJobIds().filter((id) => held.jobIds().includes(id))).to.deep.equal([]);
    held.stopHolding();
    await killAllWorkers();
    held.release();
    await replaceWorkers();
    for (const e of executions) await h.waitForStatus(e.id, 'RUNNING', 90_000);
    results.run = await checkInvariants(
      h,
      executions.map((e) => e.id),
    );
    expect(results.run).to.deep.equal({ RUNNING: TRIALS });
    for (const e of executions) {
      const [first] = h.flink.runRequestsFor(flinkIdOf(e.id));
      // The kill landed in flight: the held request's answer never reached its worker.
      expect(first?.delivered, `first run request of ${e.id}`).to.equal(false);
    }
    await cleanUp(list, executions);
  });

  it('run answered: killed after Flink took every job, before the answer reached the worker', async () => {
    const gate = new Gate();
    h.flink.setRunAnswerHook(gate.pass);
    const list = await jobs(TRIALS);
    try {
      const executions = await Promise.all(list.map((j) => h.start202(j.id)));
      await waitFor('every job to be taken by Flink', () => gate.held.length === TRIALS, 60_000);
      for (const e of executions) expect(h.flink.job(flinkIdOf(e.id))?.state).to.equal('RUNNING');
      for (const row of await rows(executions)) expect(row.status).to.equal('SUBMITTING');
      await killAllWorkers();
      gate.open();
      await replaceWorkers();
      for (const e of executions) await h.waitForStatus(e.id, 'RUNNING', 90_000);
      results.runAnswered = await checkInvariants(
        h,
        executions.map((e) => e.id),
      );
      expect(results.runAnswered).to.deep.equal({ RUNNING: TRIALS });
      // The new worker asked Flink first, found the job, and sent no second request.
      for (const e of executions) {
        const sent = h.flink.runRequestsFor(flinkIdOf(e.id));
        expect(sent.map((r) => [r.outcome, r.delivered])).to.deep.equal([['accepted', false]]);
      }
      await cleanUp(list, executions);
    } finally {
      h.flink.setRunAnswerHook(null);
    }
  });

  it('tracking: killed while the jobs run; they then finish on Flink', async () => {
    const list = await jobs(TRIALS);
    const executions = await Promise.all(list.map((j) => h.start202(j.id)));
    const running = [];
    for (const e of executions) running.push(await h.waitForStatus(e.id, 'RUNNING'));
    await killAllWorkers();
    for (const r of running) h.flink.finishJob(r.flinkJobId);
    await replaceWorkers();
    for (const e of executions) await h.waitForStatus(e.id, 'FINISHED', 90_000);
    results.tracking = await checkInvariants(
      h,
      executions.map((e) => e.id),
    );
    expect(results.tracking).to.deep.equal({ FINISHED: TRIALS });
  });

  it('stop (with savepoint): killed while Flink holds every savepoint in progress', async () => {
    const list = await jobs(TRIALS);
    const executions = await Promise.all(list.map((j) => h.start202(j.id)));
    for (const e of executions) await h.waitForStatus(e.id, 'RUNNING');
    const gate = new Gate();
    h.flink.setSavepointHook(gate.pass);
    try {
      for (const j of list)
        expect((await h.http.post(`/api/v1/jobs/${j.id}/stop`, { savepoint: true })).status).to.equal(202);
      await waitFor('every savepoint to be in progress', () => gate.held.length === TRIALS, 60_000);
      expect(new Set(gate.held)).to.deep.equal(new Set(executions.map((e) => flinkIdOf(e.id))));
      for (const row of await rows(executions)) expect(row.status).to.equal('STOPPING');
      await killAllWorkers();
      gate.open();
      await replaceWorkers();
      for (const e of executions) await h.waitForStatus(e.id, 'STOPPED', 90_000);
      results.stop = await checkInvariants(
        h,
        executions.map((e) => e.id),
      );
      expect(results.stop).to.deep.equal({ STOPPED: TRIALS });
      // The new workers resumed the same operation: one savepoint per job, under one trigger id.
      for (const e of executions) {
        const triggers = h.flink.savepointTriggers.filter((t) => t.jobId === flinkIdOf(e.id));
        expect(
          triggers.filter((t) => t.created),
          `savepoints of ${e.id}`,
        ).to.have.length(1);
        expect(new Set(triggers.map((t) => t.triggerId)).size).to.equal(1);
      }
    } finally {
      h.flink.setSavepointHook(null);
    }
  });
});
