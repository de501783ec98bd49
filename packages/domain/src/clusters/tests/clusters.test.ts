import { expect } from 'chai';
import {
  ClusterInUse,
  ClusterNameTaken,
  ClusterNotFound,
  CollectUnusedJars,
  EnsureJarOnFlink,
  flinkJobIdFor,
  ManageClusters,
  StopOnFlink,
  ObserveCluster,
  SubmitToFlink,
  TransientFailure,
  PermanentFailure,
  DEFAULT_OBSERVER_SETTINGS as OBSERVER,
  type JarSource,
} from '../..';
import { FakeFlink, MemoryClusters, MemoryJarRegistry, oneJar, SUBMIT_SETTINGS, world } from '../../testing/fakes';

/** The default cluster (`w.flink`) and a second one, `b`, each a FakeFlink. */
function twoClusters() {
  const w = world();
  const b = new FakeFlink();
  w.clusters.add('b', b, 's3://b/savepoints');
  const registry = new MemoryJarRegistry();
  const source = oneJar();
  const jars = new EnsureJarOnFlink(source, registry, w.log);
  const submit = new SubmitToFlink({
    ...w,
    jars,
    settings: SUBMIT_SETTINGS,
  });
  const queuedOn = (cluster: string) => {
    const job = w.jobs.add({ cluster });
    return w.executions.put({
      jobId: job.id,
      cluster,
      status: 'QUEUED',
      definition: { jarUrl: 'app.jar', entryClass: 'com.example.Main', config: {}, jobVersion: 1 },
    });
  };
  return { ...w, b, registry, source, jars, submit, queuedOn };
}

const first = { number: 1, final: false };

describe('many clusters (on fakes)', () => {
  describe('SubmitToFlink', () => {
    it('runs each execution on the cluster it records, and nowhere else', async () => {
      const t = twoClusters();
      const onB = t.queuedOn('b');
      const onDefault = t.queuedOn('default');
      await t.submit.run(onB.id, first);
      await t.submit.run(onDefault.id, first);
      expect(t.b.runs.map((r) => r.jobId)).to.deep.equal([flinkJobIdFor(onB.id)]);
      expect(t.flink.runs.map((r) => r.jobId)).to.deep.equal([flinkJobIdFor(onDefault.id)]);
      expect(t.executions.status(onB.id)).to.equal('RUNNING');
      expect(t.executions.status(onDefault.id)).to.equal('RUNNING');
    });

    it('a JAR on one cluster is uploaded again for another, and reused on each', async () => {
      const t = twoClusters();
      let uploads = { a: 0, b: 0 };
      const countA = t.flink.uploadJar.bind(t.flink);
      const countB = t.b.uploadJar.bind(t.b);
      t.flink.uploadJar = () => ((uploads = { ...uploads, a: uploads.a + 1 }), countA());
      t.b.uploadJar = () => ((uploads = { ...uploads, b: uploads.b + 1 }), countB());
      for (const cluster of ['default', 'b', 'default', 'b']) await t.submit.run(t.queuedOn(cluster).id, first);
      expect(uploads).to.deep.equal({ a: 1, b: 1 });
      const onA = await t.registry.find('default', 'c0ffee');
      const onB = await t.registry.find('b', 'c0ffee');
      expect(t.flink.jars.has(onA as string)).to.equal(true);
      expect(t.b.jars.has(onB as string)).to.equal(true);
      expect(onA).not.to.equal(onB);
    });

    it('an unchanged JAR (304) that only another cluster holds is downloaded and uploaded for this one', async () => {
      const t = twoClusters();
      await t.submit.run(t.queuedOn('default').id, first);
      await t.registry.rememberSource('http://dp:8080/app.jar', '"v1"', 'c0ffee');
      const conditional: (string | undefined)[] = [];
      const plain = t.source.fetch.bind(t.source);
      t.source.fetch = ((url: string, etag?: string) => {
        conditional.push(etag);
        return etag ? Promise.resolve('not-modified') : plain(url);
      }) as JarSource['fetch'];
      await t.submit.run(t.queuedOn('b').id, first);
      expect(conditional).to.deep.equal(['"v1"', undefined]);
      expect(t.b.jars.size).to.equal(1);
    });

    it('a cluster that was removed fails the execution at once, saying so', async () => {
      const t = twoClusters();
      const e = t.queuedOn('b');
      t.clusters.remove('b');
      await t.submit.run(e.id, first);
      expect(t.executions.rows.get(e.id)).to.include({ status: 'FAILED' });
      expect(t.executions.rows.get(e.id)?.errorMessage).to.match(/cluster "b" no longer exists/);
      expect(t.b.runs).to.have.length(0);
    });
  });

  describe('ObserveCluster and StopOnFlink', () => {
    function runningOn(t: ReturnType<typeof twoClusters>, cluster: string) {
      const job = t.jobs.add({ cluster });
      const e = t.executions.put({ jobId: job.id, cluster, status: 'RUNNING', submittedAt: t.clock.now() });
      const flinkJobId = flinkJobIdFor(e.id);
      t.executions.rows.set(e.id, { ...e, flinkJobId });
      return { id: e.id, flinkJobId };
    }

    it("each cluster's observer follows only the executions recorded on it; a removed cluster ends its observer", async () => {
      const t = twoClusters();
      const observe = (cluster: string) =>
        new ObserveCluster({ ...t, cluster, settings: { ...OBSERVER, lostGraceMs: 0 } });
      const onB = runningOn(t, 'b');
      const onDefault = runningOn(t, 'default');
      t.b.jobs.set(onB.flinkJobId, { state: 'FINISHED' });
      t.flink.jobs.set(onDefault.flinkJobId, { state: 'RUNNING' });
      // Flink `default` has no job of b's: were it asked about it, b's execution would be LOST.
      await observe('default').tick();
      expect(t.executions.status(onB.id)).to.equal('RUNNING');
      await observe('b').tick();
      expect(t.executions.status(onB.id)).to.equal('FINISHED');
      expect(t.executions.status(onDefault.id)).to.equal('RUNNING');
      expect(t.b.calls.get('jobs_status')).to.equal(undefined);

      t.clusters.remove('b');
      let refused: unknown;
      await observe('b')
        .tick()
        .catch((error: unknown) => (refused = error));
      expect(refused).to.be.instanceOf(PermanentFailure);
    });

    it("a stop with savepoint goes to the execution's cluster, into that cluster's savepoint directory", async () => {
      const t = twoClusters();
      const e = runningOn(t, 'b');
      t.b.jobs.set(e.flinkJobId, { state: 'RUNNING' });
      const targets: (string | null)[] = [];
      const stopB = t.b.stopWithSavepoint.bind(t.b);
      t.b.stopWithSavepoint = (jobId, options) => (targets.push(options.targetDirectory), stopB(jobId, options));
      await t.executions.transition(e.id, 'STOPPING', {
        stopRequest: { savepoint: true, drain: false, requestedAt: t.clock.now() },
      });
      await new StopOnFlink({ ...t, settings: { pollIntervalMs: 100, timeoutMs: 10_000 } }).run(e.id, first);
      expect(targets).to.deep.equal(['s3://b/savepoints']);
      expect(t.executions.rows.get(e.id)).to.include({ status: 'STOPPED' });
      expect(t.flink.jobs.size).to.equal(0);
    });
  });

  describe('CollectUnusedJars', () => {
    it("deletes each unused jar on its own cluster; a removed cluster's jars are only forgotten", async () => {
      const t = twoClusters();
      const onA = await t.flink.uploadJar();
      const onB = await t.b.uploadJar();
      await t.registry.remember('default', 'aa', onA);
      await t.registry.remember('b', 'bb', onB);
      await t.registry.remember('gone', 'cc', 'x_app.jar');
      t.registry.unusedJars = [
        { cluster: 'default', sha256: 'aa', jarId: onA },
        { cluster: 'b', sha256: 'bb', jarId: onB },
        { cluster: 'gone', sha256: 'cc', jarId: 'x_app.jar' },
      ];
      expect(await new CollectUnusedJars(t.clusters, t.registry).run()).to.equal(3);
      expect(t.flink.jars.has(onA)).to.equal(false);
      expect(t.b.jars.has(onB)).to.equal(false);
      expect(t.registry.jars.size).to.equal(0);
    });

    it("one cluster down does not keep the others' jars; its error comes after", async () => {
      const t = twoClusters();
      const onB = await t.b.uploadJar();
      t.flink.listJarIds = () => Promise.reject(new TransientFailure('down'));
      t.registry.unusedJars = [
        { cluster: 'default', sha256: 'aa', jarId: 'a_app.jar' },
        { cluster: 'b', sha256: 'bb', jarId: onB },
      ];
      const error = await new CollectUnusedJars(t.clusters, t.registry).run().catch((e: unknown) => e);
      expect(error).to.be.instanceOf(TransientFailure);
      expect(t.b.jars.has(onB)).to.equal(false);
    });
  });

  describe('ManageClusters', () => {
    it('unknown names are ClusterNotFound; duplicates ClusterNameTaken; one in use ClusterInUse', async () => {
      const w = world();
      const clusters = new ManageClusters(new MemoryClusters(w.clock, (name) => (name === 'used' ? 2 : 0)));
      await clusters.create({ name: 'used', url: 'http://a:8081', auth: null, savepointDir: null });
      for (const call of [() => clusters.get('nope'), () => clusters.update('nope', {}), () => clusters.delete('nope')])
        expect(await call().catch((e: unknown) => e)).to.be.instanceOf(ClusterNotFound);
      const taken = await clusters
        .create({ name: 'used', url: 'http://b:8081', auth: null, savepointDir: null })
        .catch((e: unknown) => e);
      expect(taken).to.be.instanceOf(ClusterNameTaken);
      const inUse = await clusters.delete('used').catch((e: unknown) => e);
      expect(inUse).to.be.instanceOf(ClusterInUse);
      expect((inUse as ClusterInUse).details).to.deep.equal({ jobs: 2 });
    });

    it('ensure (FLINK_JOBMANAGER_URL at start) creates the cluster, then only moves its URL', async () => {
      const w = world();
      const clusters = new ManageClusters(new MemoryClusters(w.clock));
      const created = await clusters.ensure('default', 'http://jm-1:8081');
      expect((await clusters.ensure('default', 'http://jm-1:8081')).version).to.equal(created.version);
      await clusters.update('default', { savepointDir: 'file:///sp' });
      const moved = await clusters.ensure('default', 'http://jm-2:8081');
      expect(moved).to.include({ url: 'http://jm-2:8081', savepointDir: 'file:///sp' });
    });
  });
});
