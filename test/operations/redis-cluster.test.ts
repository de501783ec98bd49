import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { PipelineHarness } from '../support/pipeline-harness';
import { LocalRedisCluster } from '../support/redis-cluster';
import { waitFor } from '../support/wait';

const STREAMING = 'org.apache.flink.streaming.examples.windowing.TopSpeedWindowing';
const FINISHING = 'org.apache.flink.streaming.examples.wordcount.WordCount';

/**
 * The service on a 3-master Redis Cluster (REDIS_CLUSTER_NODES, a hash-tag QUEUE_PREFIX):
 * the API, two worker processes, BullMQ's queues and job schedulers, the leases.
 */
describe('on a Redis Cluster (3 masters on loopback)', function () {
  this.timeout(120_000);
  const cluster = new LocalRedisCluster(3);
  const prefix = `{fo-test-${randomBytes(4).toString('hex')}}`;
  let h: PipelineHarness;

  before(async () => {
    await cluster.start();
    const env = { REDIS_CLUSTER_NODES: cluster.seedList, QUEUE_PREFIX: prefix };
    h = await new PipelineHarness({ workers: 2, apiEnv: env, workerEnv: env }).start();
  });
  after(async () => {
    await h?.stop();
    await cluster.stop();
  });

  it('reports Redis ready in /health', async () => {
    const res = await h.http.get('/health');
    expect(res.status).to.equal(200);
    expect(res.body.checks.redis).to.equal('ok');
  });

  it('start → RUNNING → stop → CANCELLED, and every key of the queues sits in one hash slot', async () => {
    const job = await h.createJob(STREAMING);
    const started = await h.start202(job.id);
    const running = await h.waitForStatus(started.id, 'RUNNING');
    const stop = await h.http.post(`/api/v1/jobs/${job.id}/stop`);
    expect(stop.status).to.equal(202);
    await h.waitForStatus(started.id, 'CANCELLED');
    expect(h.flink.runRequestsFor(running.flinkJobId)).to.have.length(1);
    // One node holds the keys of the queues; the hash tag put them in one slot.
    const perNode = await cluster.keysPerNode();
    expect(
      perNode.filter((n) => n > 0),
      JSON.stringify(perNode),
    ).to.have.length(1);
  });

  it('a schedule tick fires through BullMQ job schedulers on the cluster', async () => {
    const job = await h.createJob(FINISHING);
    const res = await h.http.post(`/api/v1/jobs/${job.id}/schedule`, { cron: '* * * * * *', overlap: 'skip' });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    const tick = await waitFor('a schedule tick to start an execution', async () => {
      const list = await h.http.get(`/api/v1/jobs/${job.id}/executions`);
      return (list.body as { trigger: string; status: string; id: string }[]).find(
        (e) => e.trigger === 'schedule' && e.status !== 'SKIPPED' && e.status !== 'MISSED',
      );
    });
    await h.waitForStatus(tick.id, 'FINISHED');
    expect((await h.http.delete(`/api/v1/jobs/${job.id}/schedule`)).status).to.equal(204);
  });
});
