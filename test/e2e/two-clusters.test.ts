import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { FlinkRestClient } from '@flink-orchestrator/flink-rest';
import { expect } from 'chai';
import { startApi } from '../support/api-process';
import { DataProcessor } from '../support/data-processor';
import { client, type Client } from '../support/http';
import { assertFlinkIntegrity } from '../support/integrity';
import { TERMINAL } from '../support/pipeline-harness';
import { databaseUrl } from '../support/test-env';
import { GiveUp, waitFor } from '../support/wait';
import { startWorkers, stopAll, type ServiceProcess } from '../support/worker-processes';
import { e2eVersions, startFlink } from './support/flink-cluster';

const TOP_SPEED = 'org.apache.flink.streaming.examples.windowing.TopSpeedWindowing';

/** What GET /api/v1/clusters/:name answers in `observed` (the fields read here). */
interface Observed {
  reachable: boolean;
  observedAt: string;
  flinkVersion: string | null;
  taskManagers: number | null;
  slotsTotal: number | null;
  slotsFree: number | null;
  slotsObservedAt: string | null;
  unmanagedJobs: { flinkJobId: string; name: string; state: string; startTime: string | null }[];
}

/**
 * The two Flink lines side by side, as two clusters of one service: the first is `default`
 * (FLINK_JOBMANAGER_URL), the second is registered over the API. A job on each runs, is
 * tracked and is cancelled only on its own cluster; each cluster is observed (version,
 * slots, jobs nobody here owns), and a start waits for the slots its parallelism needs.
 */
describe('two real Flink clusters side by side, one service', function () {
  this.timeout(300_000);
  const versions = e2eVersions();
  let flinks: Awaited<ReturnType<typeof startFlink>>[] = [];
  let api: Awaited<ReturnType<typeof startApi>>;
  let http: Client;
  let workers: ServiceProcess[] = [];
  const data = new DataProcessor();
  const second = `flink-${Date.now().toString(36)}`;

  // No orphan, no job on the wrong cluster, one Flink job per definition, on both clusters.
  afterEach(() =>
    assertFlinkIntegrity({
      clusters: flinks.map((f, i) => ({ name: i === 0 ? 'default' : second, flinkUrl: f.url })),
      databaseUrl: databaseUrl(),
      context: 'two real clusters',
    }),
  );

  before(async function () {
    this.timeout(900_000);
    // FLINK_E2E_VERSIONS may name one line: then two clusters of it.
    const pair = [versions[0], versions[1] ?? versions[0]] as string[];
    flinks = await Promise.all(pair.map((v) => startFlink(v)));
    await data.start();
    // Each cluster runs the example JAR of its own Flink line.
    flinks.forEach((f, i) =>
      data.serveJar(`/TopSpeed-${i}.jar`, readFileSync(path.join(f.examples, 'TopSpeedWindowing.jar'))),
    );
    const [first, other] = flinks as [(typeof flinks)[0], (typeof flinks)[0]];
    api = await startApi({ DATA_PROCESSOR_URL: data.url, FLINK_JOBMANAGER_URL: first.url });
    http = client(api.url);
    workers = await startWorkers(
      2,
      { flinkUrl: first.url, dataProcessorUrl: data.url, env: { POLL_INTERVAL_MS: '500' } },
      'e2e-two',
    );
    const created = await http.post('/api/v1/clusters', { name: second, url: other.url });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
  });

  after(async function () {
    this.timeout(300_000);
    if (http) {
      // Every job of either cluster: what a failed case left active is stopped first, else
      // the delete is refused (execution_active) and so is the cluster's (cluster_in_use).
      const jobs = (await http.get('/api/v1/jobs?limit=500')).body as { id: string; cluster: string }[];
      for (const job of jobs) {
        await settle(job.id).catch((error: unknown) => console.error(`job ${job.id} not settled: ${String(error)}`));
        await http.delete(`/api/v1/jobs/${job.id}`);
      }
      await http.delete(`/api/v1/clusters/${second}`);
    }
    await stopAll(workers);
    await api?.close();
    await data.stop();
    await Promise.all(flinks.map((f) => f.stop()));
  });

  const overview = async (url: string): Promise<string[]> => {
    const res = await fetch(`${url}/jobs/overview`);
    const body = (await res.json()) as { jobs: { jid: string; state: string }[] };
    return body.jobs.filter((j) => j.state === 'RUNNING').map((j) => j.jid);
  };

  function waitForStatus(id: string, status: string) {
    return waitFor(
      `execution ${id} to be ${status}`,
      async () => {
        const e = (await http.get(`/api/v1/executions/${id}`)).body;
        if (e.status === status) return e;
        if (TERMINAL.includes(e.status))
          throw new GiveUp(`execution ${id} ended ${e.status} (${e.errorMessage}), expected ${status}`);
        return undefined;
      },
      120_000,
      250,
    );
  }

  const ACTIVE = ['QUEUED', 'SUBMITTING', 'RUNNING', 'STOPPING'];

  /** Stops what is active of the job, and waits until nothing is. */
  async function settle(jobId: string) {
    const active = async () =>
      ((await http.get(`/api/v1/jobs/${jobId}/executions`)).body as { status: string }[]).filter((e) =>
        ACTIVE.includes(e.status),
      );
    if ((await active()).length === 0) return;
    await http.post(`/api/v1/jobs/${jobId}/stop`);
    await waitFor(`job ${jobId} to have no active execution`, async () => (await active()).length === 0, 120_000, 500);
  }

  const observedOf = async (cluster: string): Promise<Observed | null> => {
    const res = await http.get(`/api/v1/clusters/${cluster}`);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body.observed as Observed | null;
  };

  const flinkGet = async (url: string, p: string) => {
    const res = await fetch(`${url}${p}`);
    return { status: res.status, body: (await res.json()) as any };
  };

  let seq = 0;
  async function createJob(i: number, cluster: string, extra: Record<string, unknown> = {}) {
    const res = await http.post('/api/v1/jobs', {
      name: `two-${cluster}-${++seq}-${Date.now()}`,
      jarURL: `TopSpeed-${i}.jar`,
      entryClass: TOP_SPEED,
      cluster,
      ...extra,
    });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body as { id: string };
  }

  async function start(jobId: string) {
    const res = await http.post(`/api/v1/jobs/${jobId}/start`);
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    return res.body as { id: string };
  }

  it('a job on each cluster runs only there, and is stopped there', async () => {
    const clusters = ['default', second];
    const jobs = await Promise.all(
      clusters.map(async (cluster, i) => {
        const res = await http.post('/api/v1/jobs', {
          name: `two-${i}-${Date.now()}`,
          jarURL: `TopSpeed-${i}.jar`,
          entryClass: TOP_SPEED,
          cluster,
        });
        expect(res.status, JSON.stringify(res.body)).to.equal(201);
        return res.body as { id: string };
      }),
    );
    const executions = await Promise.all(
      jobs.map(async (job) => (await http.post(`/api/v1/jobs/${job.id}/start`)).body as { id: string }),
    );
    const running = await Promise.all(executions.map((e) => waitForStatus(e.id, 'RUNNING')));
    const [onFirst, onSecond] = await Promise.all(flinks.map((f) => overview(f.url)));
    expect(onFirst).to.include(running[0].flinkJobId).and.not.include(running[1].flinkJobId);
    expect(onSecond).to.include(running[1].flinkJobId).and.not.include(running[0].flinkJobId);
    for (const job of jobs) expect((await http.post(`/api/v1/jobs/${job.id}/stop`)).status).to.equal(202);
    await Promise.all(executions.map((e) => waitForStatus(e.id, 'CANCELLED')));
    const [afterFirst, afterSecond] = await Promise.all(flinks.map((f) => overview(f.url)));
    expect(afterFirst).not.to.include(running[0].flinkJobId);
    expect(afterSecond).not.to.include(running[1].flinkJobId);
  });
  it('the observer follows both clusters: reachable, their own Flink version, one TaskManager with 4 slots', async () => {
    const clusters = ['default', second];
    const seen = await Promise.all(
      clusters.map((cluster) =>
        waitFor(
          `cluster ${cluster} to be observed with its slots`,
          async () => {
            const observed = await observedOf(cluster);
            return observed?.flinkVersion ? observed : undefined;
          },
          60_000,
          250,
        ),
      ),
    );
    seen.forEach((observed, i) => {
      const context = `${clusters[i]}: ${JSON.stringify(observed)}`;
      expect(observed.reachable, context).to.equal(true);
      expect(observed.flinkVersion, context).to.equal(flinks[i]?.version);
      expect(observed.taskManagers, context).to.be.at.least(1);
      expect(observed.slotsTotal, context).to.equal(4);
      expect(observed.slotsObservedAt, context).to.be.a('string');
    });
  });

  it('a job submitted straight to Flink is listed as unmanaged on its own cluster only, and the API cancels it', async () => {
    const [, target] = flinks as [(typeof flinks)[0], (typeof flinks)[0]];
    const rest = new FlinkRestClient({ baseUrl: target.url });
    const jar = path.join(target.examples, 'TopSpeedWindowing.jar');
    const jid = randomBytes(16).toString('hex');
    let jarId: string | null = null;
    try {
      jarId = await rest.uploadJar({ path: jar, fileName: 'ByHand.jar', size: statSync(jar).size, sha256: '' });
      expect(
        await rest.runJar({
          jarId,
          jobId: jid,
          entryClass: TOP_SPEED,
          programArgs: [],
          parallelism: null,
          savepointPath: null,
          allowNonRestoredState: false,
        }),
      ).to.equal('submitted');

      const listed = await waitFor(
        `job ${jid} in ${second}'s unmanagedJobs`,
        async () => (await observedOf(second))?.unmanagedJobs.find((j) => j.flinkJobId === jid),
        60_000,
        250,
      );
      expect(listed.name).to.be.a('string').and.not.equal('');
      expect(listed.state).to.equal('RUNNING');
      expect(listed.startTime).to.be.a('string');
      // Not on the other cluster: once an observation of it newer than this moment is saved
      // (the slots are read every fifth tick, and a new read is a new observation).
      const listedAt = Date.now();
      const other = await waitFor(
        'an observation of default newer than the listing',
        async () => {
          const observed = await observedOf('default');
          return observed && Date.parse(observed.observedAt) > listedAt ? observed : undefined;
        },
        60_000,
        250,
      );
      expect(other.unmanagedJobs.map((j) => j.flinkJobId)).not.to.include(jid);

      const cancelled = await http.post(`/api/v1/clusters/${second}/jobs/${jid}/cancel`);
      expect(cancelled.status, JSON.stringify(cancelled.body)).to.equal(202);
      expect(cancelled.body).to.deep.equal({ cluster: second, flinkJobId: jid, cancelled: true });
      await waitFor(
        `job ${jid} to leave ${second}'s unmanagedJobs`,
        async () => !(await observedOf(second))?.unmanagedJobs.some((j) => j.flinkJobId === jid),
        60_000,
        250,
      );
      const state = await waitFor(
        `Flink to end job ${jid}`,
        async () => {
          const job = await flinkGet(target.url, `/jobs/${jid}`);
          return ['CANCELED', 'FAILED', 'FINISHED'].includes(job.body.state) ? (job.body.state as string) : undefined;
        },
        60_000,
        250,
      );
      expect(state).to.equal('CANCELED');
    } finally {
      // Whatever failed above, nothing submitted by hand outlives the case.
      await rest.cancel(jid).catch(() => undefined);
      if (jarId) await rest.deleteJar(jarId).catch(() => undefined);
    }
  });

  it('a start waits QUEUED for slots while another job holds them, and runs once they are freed', async () => {
    const [flink] = flinks as [(typeof flinks)[0]];
    const flinkSlots = async () => (await flinkGet(flink.url, '/overview')).body as { 'slots-available': number };
    // Nothing left over from an earlier case: the observer sees all 4 slots free.
    await waitFor(
      'default to be observed with its 4 slots free',
      async () => (await observedOf('default'))?.slotsFree === 4,
      60_000,
      250,
    );
    const a = await createJob(0, 'default', { parallelism: 3 });
    const b = await createJob(0, 'default', { parallelism: 2 });
    try {
      const holder = await waitForStatus((await start(a.id)).id, 'RUNNING');
      // With slot sharing a job takes as many slots as its highest parallelism: 3 of the 4.
      // Flink counts them once the tasks are deployed, a moment after the run request.
      await waitFor(
        'Flink to count 1 slot free',
        async () => (await flinkSlots())['slots-available'] === 1,
        60_000,
        250,
      );

      // The job of an execution of ours is not cancelled by the cluster's endpoint.
      const refused = await http.post(`/api/v1/clusters/default/jobs/${holder.flinkJobId}/cancel`);
      expect(refused.status, JSON.stringify(refused.body)).to.equal(409);
      expect(refused.body.error.code).to.equal('flink_job_managed');

      const waiter = await start(b.id);
      const queued = async () => {
        const e = (await http.get(`/api/v1/executions/${waiter.id}`)).body;
        if (e.status !== 'QUEUED')
          throw new GiveUp(`execution ${waiter.id} is ${e.status}, expected it to wait QUEUED`);
        return e;
      };
      const refusal = await waitFor(
        `execution ${waiter.id} to wait for slots`,
        async () => {
          const e = await queued();
          return e.waitingFor === 'slots' ? e : undefined;
        },
        60_000,
        250,
      );
      expect(refusal.waiting.slotsNeeded).to.equal(2);
      expect(refusal.waiting.slotsFree).to.be.below(2);
      // It stays: after the observer's next slot read (which sees the slot A left) and one more
      // admission check, it is still QUEUED and waiting.
      const readBefore = Date.parse((await observedOf('default'))?.slotsObservedAt ?? '');
      await waitFor(
        'a newer slot read of default showing 1 free',
        async () => {
          await queued();
          const observed = await observedOf('default');
          return Date.parse(observed?.slotsObservedAt ?? '') > readBefore && observed?.slotsFree === 1;
        },
        60_000,
        250,
      );
      const still = await waitFor(
        `one more admission check of ${waiter.id}`,
        async () => {
          const e = await queued();
          return e.waiting?.checks > refusal.waiting.checks ? e : undefined;
        },
        60_000,
        250,
      );
      expect(still).to.deep.include({ status: 'QUEUED', waitingFor: 'slots' });
      // slotsFree is the observed figure less the slots of submissions claimed within a few
      // seconds before that read (ADMISSION settle margin): 1, or 0 while A's claim is that recent.
      expect(still.waiting.slotsNeeded).to.equal(2);
      expect(still.waiting.slotsFree).to.be.below(2);

      expect((await http.post(`/api/v1/jobs/${a.id}/stop`)).status).to.equal(202);
      await waitForStatus(holder.id, 'CANCELLED');
      // The backoff doubles from POLL_INTERVAL_MS: the next check comes within seconds.
      const running = await waitForStatus(waiter.id, 'RUNNING');
      expect(running.waitingFor).to.equal(null);
      expect(running.waiting).to.equal(null);
      expect((await flinkGet(flink.url, `/jobs/${running.flinkJobId}`)).body.state).to.equal('RUNNING');
      expect((await http.post(`/api/v1/jobs/${b.id}/stop`)).status).to.equal(202);
      await waitForStatus(waiter.id, 'CANCELLED');
    } finally {
      await Promise.all([settle(a.id), settle(b.id)]);
    }
  });
});
