import { migrateToLatest } from '@flink-orchestrator/postgres';
import { expect } from 'chai';
import { assertHarnessIntegrity } from '../support/integrity';
import { PipelineHarness } from '../support/pipeline-harness';
import { GiveUp, sleep, waitFor } from '../support/wait';
import { checkInvariants } from './support/invariants';
import { OwnPostgres } from './support/own-services';

const STREAMING = 'org.apache.flink.streaming.examples.windowing.TopSpeedWindowing';

describe("fault: PostgreSQL restarted under load (a cluster of the suite's own)", function () {
  this.timeout(300_000);
  const pg = new OwnPostgres();
  let h: PipelineHarness;
  before(async () => {
    await pg.start();
    await migrateToLatest(pg.url('orchestrator'), { info: () => undefined }, { createDatabase: true });
    const env = { DATABASE_URL: pg.url('orchestrator') };
    h = new PipelineHarness({ workers: 2, apiEnv: env, workerEnv: env });
    await h.start();
  });
  after(async () => {
    await h?.stop();
    pg.destroy();
  });
  afterEach(() => assertHarnessIntegrity(h));

  it('requests fail fast with 503 during the outage; afterwards everything works without restarting a process', async () => {
    const before = [];
    for (let i = 0; i < 5; i++) before.push(await h.start202((await h.createJob(STREAMING)).id));
    for (const e of before) await h.waitForStatus(e.id, 'RUNNING');

    const statuses = new Map<number, number>();
    const count = (status: number) => statuses.get(status) ?? 0;
    let slowest = 0;
    let stop = false;
    let loadError: Error | undefined;
    const load = (async () => {
      while (!stop) {
        const started = Date.now();
        const res = await h.http.get('/api/v1/jobs?limit=5');
        slowest = Math.max(slowest, Date.now() - started);
        statuses.set(res.status, count(res.status) + 1);
        expect([200, 503], JSON.stringify(res.body)).to.include(res.status);
        if (res.status === 503) expect(res.body.error.code).to.equal('dependency_unavailable');
        await sleep(100); // the load's pace, not a wait for something
      }
    })().catch((error: unknown) => (loadError = error instanceof Error ? error : new Error(String(error))));
    /** A condition on the load, given up at once when the load failed. */
    const onLoad = (probe: () => boolean) => () => {
      if (loadError) throw new GiveUp(loadError.message);
      return probe();
    };
    await waitFor(
      'the load to be answered before the outage',
      onLoad(() => count(200) >= 5),
    );
    const marks = h.workers.map((w) => w.logged);
    pg.down();
    // The outage lasts until both sides have met it: the API refused requests (503) and said so
    // on /health, and the worker observing the cluster failed a tick on PostgreSQL.
    await waitFor(
      'the API to refuse requests',
      onLoad(() => count(503) > 3),
      60_000,
      50,
    );
    const health = await h.http.get('/health');
    expect(health.status).to.equal(503);
    expect(health.body.checks.postgres).to.equal('unavailable');
    await waitFor(
      'a worker to fail a cluster observation on PostgreSQL',
      onLoad(() => h.workers.some((w, i) => w.loggedSince(marks[i] ?? 0).includes('cluster observation failed'))),
      60_000,
      50,
    );
    pg.up();
    const okBefore = count(200);
    await waitFor(
      'the load to be answered again',
      onLoad(() => count(200) >= okBefore + 5),
      60_000,
      50,
    );
    stop = true;
    await load;
    if (loadError) throw loadError;
    expect(statuses.get(503) ?? 0, 'requests during the outage').to.be.greaterThan(3);
    expect(slowest, 'a request waited too long during the outage').to.be.below(8000);

    // Same processes, no restart: the API answers and the workers run new work.
    expect((await h.http.get('/health')).status).to.equal(200);
    const after = await h.start202((await h.createJob(STREAMING)).id);
    await h.waitForStatus(after.id, 'RUNNING', 60_000);
    for (const e of before) h.flink.finishJob((await h.execution(e.id)).flinkJobId);
    for (const e of before) await h.waitForStatus(e.id, 'FINISHED', 60_000);
    await checkInvariants(h, [...before.map((e) => e.id), after.id]);
    process.stdout.write(
      `      postgres outage: statuses ${JSON.stringify(Object.fromEntries(statuses))}, slowest ${slowest} ms\n`,
    );
  });
});
