import { randomUUID } from 'node:crypto';
import { buildTestJar } from '@flink-orchestrator/flink-test-double';
import { expect } from 'chai';
import { PipelineHarness } from '../support/pipeline-harness';
import { holdRunRequests } from '../support/run-gate';
import { sleep, waitFor } from '../support/wait';
import type { ServiceProcess } from '../support/worker-processes';
import { checkInvariants } from './support/invariants';

const STREAMING = 'org.apache.flink.streaming.examples.windowing.TopSpeedWindowing';
const TRIALS = Number(process.env.FAULT_TRIALS ?? 10);

describe(`fault: SIGKILL both workers in each pipeline stage, ${TRIALS} executions each`, function () {
  this.timeout(300_000);
  const h = new PipelineHarness({
    workers: 2,
    flink: { timing: { savepointMs: 2500 } },
    workerEnv: { WORKER_CONCURRENCY: '20' },
  });
  before(() => h.start());
  after(async () => {
    h.flink.setRunDelayHook(null);
    h.flink.setLatency(0);
    await h.stop();
  });

  async function killAllWorkers(): Promise<void> {
    const victims = h.workers.splice(0);
    await Promise.all(victims.map((w: ServiceProcess) => w.kill('SIGKILL')));
  }
  const replaceWorkers = async () => h.workers.push(...(await h.addWorkers(2)));

  async function jobs(count: number, slowJar = false): Promise<any[]> {
    const created = [];
    for (let i = 0; i < count; i++) {
      const bytes = buildTestJar(STREAMING, 50_000 + i);
      const path = `/jars/fault-${randomUUID().slice(0, 8)}.jar`;
      if (slowJar) h.data.serveJar(path, bytes, { chunkDelayMs: 150 });
      created.push(
        await h.createJob(
          STREAMING,
          slowJar ? { jarURL: h.data.urlOf(path) } : {},
          slowJar ? undefined : { path, bytes },
        ),
      );
    }
    return created;
  }

  async function cleanUp(jobList: any[]): Promise<void> {
    for (const job of jobList) await h.http.post(`/api/v1/jobs/${job.id}/stop`);
  }

  const results: Record<string, Record<string, number>> = {};
  after(() => process.stdout.write(`      worker-kill results: ${JSON.stringify(results)}\n`));

  it('download', async () => {
    const list = await jobs(TRIALS, true);
    const executions = await Promise.all(list.map((j) => h.start202(j.id)));
    await waitFor('every download to begin', () =>
      list.every((j) => (h.data.hits.get(new URL(j.jarURL).pathname) ?? 0) > 0),
    );
    await killAllWorkers();
    await replaceWorkers();
    for (const e of executions) await h.waitForStatus(e.id, 'RUNNING', 90_000);
    results.download = await checkInvariants(
      h,
      executions.map((e) => e.id),
    );
    expect(results.download).to.deep.equal({ RUNNING: TRIALS });
    await cleanUp(list);
  });

  it('upload', async () => {
    const list = await jobs(TRIALS);
    h.flink.setLatency(2000);
    const executions = await Promise.all(list.map((j) => h.start202(j.id)));
    await waitFor('every submission to begin', async () => {
      const states = await Promise.all(executions.map((e) => h.execution(e.id)));
      return states.every((s) => s.status === 'SUBMITTING');
    });
    await sleep(700);
    await killAllWorkers();
    h.flink.setLatency(0);
    await replaceWorkers();
    for (const e of executions) await h.waitForStatus(e.id, 'RUNNING', 90_000);
    results.upload = await checkInvariants(
      h,
      executions.map((e) => e.id),
    );
    expect(results.upload).to.deep.equal({ RUNNING: TRIALS });
    await cleanUp(list);
  });

  it('run', async () => {
    const list = await jobs(TRIALS);
    const held = holdRunRequests(h.flink);
    const executions = await Promise.all(list.map((j) => h.start202(j.id)));
    await waitFor('every run request to reach Flink', () => held.arrived() >= TRIALS, 60_000);
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
    await cleanUp(list);
  });

  it('tracking', async () => {
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

  it('stop (with savepoint)', async () => {
    const list = await jobs(TRIALS);
    const executions = await Promise.all(list.map((j) => h.start202(j.id)));
    for (const e of executions) await h.waitForStatus(e.id, 'RUNNING');
    for (const j of list)
      expect((await h.http.post(`/api/v1/jobs/${j.id}/stop`, { savepoint: true })).status).to.equal(202);
    await sleep(800);
    await killAllWorkers();
    await replaceWorkers();
    for (const e of executions) await h.waitForStatus(e.id, 'STOPPED', 90_000);
    results.stop = await checkInvariants(
      h,
      executions.map((e) => e.id),
    );
    expect(results.stop).to.deep.equal({ STOPPED: TRIALS });
  });
});
