import { expect } from 'chai';
import {
  CancelUnownedFlinkJob,
  ClusterNotFound,
  DependencyUnavailable,
  FlinkJobEnded,
  FlinkJobManaged,
  FlinkJobNotFound,
  flinkJobIdFor,
  TransientFailure,
} from '../..';
import { MemoryClusters, world } from '../../testing/fakes';

function setup() {
  const w = world();
  const registry = new MemoryClusters(w.clock);
  registry.rows.set('default', {
    id: 'c1',
    name: 'default',
    url: 'http://flink',
    auth: null,
    savepointDir: null,
    version: 1,
    createdAt: w.clock.now(),
    updatedAt: w.clock.now(),
  });
  const cancel = new CancelUnownedFlinkJob({ clusters: registry, executions: w.executions, flink: w.clusters });
  const refusal = (cluster: string, jobId: string) =>
    cancel.run(cluster, jobId).then(
      () => null,
      (e: unknown) => e,
    );
  return { ...w, cancel, refusal };
}

const BY_HAND = '0123456789ABCDEF0123456789ABCDEF';

describe('CancelUnownedFlinkJob (on fakes)', () => {
  it('cancels a job nobody here owns, answering its id as Flink writes it', async () => {
    const t = setup();
    t.flink.jobs.set(BY_HAND.toLowerCase(), { state: 'RUNNING' });
    expect(await t.cancel.run('default', BY_HAND)).to.deep.equal({
      cluster: 'default',
      flinkJobId: BY_HAND.toLowerCase(),
    });
    expect(t.flink.jobs.get(BY_HAND.toLowerCase())?.state).to.equal('CANCELED');
  });

  it("refuses an active execution's job, naming the execution to stop; an ended execution's job (drift) is cancelled", async () => {
    const t = setup();
    const job = t.jobs.add();
    const running = t.executions.put({ jobId: job.id, status: 'RUNNING' });
    t.flink.jobs.set(flinkJobIdFor(running.id), { state: 'RUNNING' });
    const refused = await t.refusal('default', flinkJobIdFor(running.id));
    expect(refused).to.be.instanceOf(FlinkJobManaged);
    expect((refused as Error).message).to.contain(`POST /api/v1/jobs/${job.id}/stop`);
    expect(t.flink.jobs.get(flinkJobIdFor(running.id))?.state).to.equal('RUNNING');

    const drifted = t.executions.put({ jobId: job.id, status: 'CANCELLED' });
    t.flink.jobs.set(flinkJobIdFor(drifted.id), { state: 'RUNNING' });
    await t.cancel.run('default', flinkJobIdFor(drifted.id));
    expect(t.flink.jobs.get(flinkJobIdFor(drifted.id))?.state).to.equal('CANCELED');
  });

  it('says what went wrong: unknown cluster, unknown job, ended job, Flink unreachable', async () => {
    const t = setup();
    expect(await t.refusal('nope', BY_HAND)).to.be.instanceOf(ClusterNotFound);
    expect(await t.refusal('default', BY_HAND)).to.be.instanceOf(FlinkJobNotFound);
    t.flink.jobs.set(BY_HAND.toLowerCase(), { state: 'FINISHED' });
    t.flink.cancel = () => Promise.resolve('already_terminal');
    expect(await t.refusal('default', BY_HAND)).to.be.instanceOf(FlinkJobEnded);
    t.flink.cancel = () => Promise.reject(new TransientFailure('connect ECONNREFUSED'));
    expect(await t.refusal('default', BY_HAND)).to.be.instanceOf(DependencyUnavailable);
  });
});
