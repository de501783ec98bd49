import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { startApi } from '../support/api-process';
import { DataProcessor } from '../support/data-processor';
import { client, type Client } from '../support/http';
import { TERMINAL } from '../support/pipeline-harness';
import { GiveUp, waitFor } from '../support/wait';
import { startWorkers, stopAll, type ServiceProcess } from '../support/worker-processes';
import { e2eVersions, startFlink } from './support/flink-cluster';

const TOP_SPEED = 'org.apache.flink.streaming.examples.windowing.TopSpeedWindowing';

/**
 * The two Flink lines side by side, as two clusters of one service: the first is `default`
 * (FLINK_JOBMANAGER_URL), the second is registered over the API. A job on each runs, is
 * tracked and is cancelled only on its own cluster.
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
    this.timeout(180_000);
    if (http) {
      const jobs = (await http.get('/api/v1/jobs?limit=500')).body as { id: string; cluster: string }[];
      for (const job of jobs.filter((j) => j.cluster === second)) await http.delete(`/api/v1/jobs/${job.id}`);
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
});
