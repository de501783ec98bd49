import { randomUUID } from 'node:crypto';
import { connect, type Knex } from '@flink-orchestrator/postgres';
import { expect } from 'chai';
import { startApi } from '../support/api-process';
import { client } from '../support/http';
import { PipelineHarness } from '../support/pipeline-harness';
import { waitFor } from '../support/wait';
import { WebhookReceiver } from '../support/webhook-receiver';

const STREAMING = 'org.apache.flink.streaming.examples.windowing.TopSpeedWindowing';

describe('a start Redis refuses (503) leaves no trace: no execution, audit row, event or webhook', function () {
  this.timeout(120_000);
  const receiver = new WebhookReceiver();
  const hosts = { WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' };
  const h = new PipelineHarness({
    workers: 1,
    apiEnv: hosts,
    workerEnv: { ...hosts, WEBHOOK_BACKOFF_MS: '200', EVENT_RELAY_INTERVAL_MS: '50' },
  });
  let db: Knex;
  before(async () => {
    await receiver.start();
    await h.start();
    db = connect(h.databaseUrl);
  });
  after(async () => {
    await db?.destroy();
    await h.stop();
    await receiver.stop();
  });

  it('refused, then accepted: only the accepted start has an audit row, events, deliveries', async () => {
    const job = await h.createJob(STREAMING);
    const hook = await h.http.post('/api/v1/webhooks', { url: receiver.url, events: ['*'], jobId: job.id });
    expect(hook.status, JSON.stringify(hook.body)).to.equal(201);

    // An API whose Redis refuses every message; the workers' Redis is fine.
    const broken = await startApi({ REDIS_URL: 'redis://127.0.0.1:1', FLINK_JOBMANAGER_URL: h.flink.url });
    const refusedRequest = `refused-${randomUUID()}`;
    try {
      const res = await client(broken.url).post(`/api/v1/jobs/${job.id}/start`, undefined, {
        'x-request-id': refusedRequest,
      });
      expect(res.status, JSON.stringify(res.body)).to.equal(503);
      expect(res.body.error.code).to.equal('dependency_unavailable');
      expect(res.body.error.message).to.match(/redis/);
    } finally {
      await broken.close();
    }
    expect(await db('job_executions').where({ job_id: job.id })).to.deep.equal([]);
    expect(await db('audit_log').where({ request_id: refusedRequest })).to.deep.equal([]);
    expect(await db('events').where({ job_id: job.id }).whereNotNull('execution_id')).to.deep.equal([]);

    const acceptedRequest = `accepted-${randomUUID()}`;
    const accepted = await h.http.post(`/api/v1/jobs/${job.id}/start`, undefined, { 'x-request-id': acceptedRequest });
    expect(accepted.status, JSON.stringify(accepted.body)).to.equal(202);
    await h.waitForStatus(accepted.body.id, 'RUNNING');

    const audit = await db('audit_log').where({ job_id: job.id, action: 'job.start' });
    expect(audit.map((a) => [a.request_id, a.target_id])).to.deep.equal([[acceptedRequest, accepted.body.id]]);
    const rows = await db('events').where({ job_id: job.id }).whereNotNull('execution_id').orderBy('id');
    expect(rows.map((e) => [e.type, e.execution_id])).to.deep.equal([
      ['execution.queued', accepted.body.id],
      ['execution.submitting', accepted.body.id],
      ['execution.running', accepted.body.id],
    ]);
    const feed = await waitFor('the feed to show the accepted start running', async () => {
      const res = await h.http.get(`/api/v1/events?jobId=${job.id}&type=execution.*`);
      return (res.body as any[]).some((e) => e.type === 'execution.running') ? (res.body as any[]) : undefined;
    });
    expect(feed.map((e) => [e.type, e.executionId])).to.deep.equal(rows.map((e) => [e.type, e.execution_id]));

    // Every event of the job fanned out and delivered: what the receiver has is all it gets.
    const newest = rows[rows.length - 1].id;
    await waitFor('the job’s events to be fanned out and delivered', async () => {
      const unpublished = await db('events')
        .where({ job_id: job.id })
        .where('id', '<=', newest)
        .whereNull('published_at');
      if (unpublished.length > 0) return undefined;
      const deliveries = (await h.http.get(`/api/v1/webhooks/${hook.body.id}/deliveries`)).body as any[];
      return deliveries.every((d) => d.status === 'DELIVERED') ? deliveries : undefined;
    });
    const received = receiver.events().filter((e) => e.jobId === job.id);
    const byExecution = received.filter((e) => e.type.startsWith('execution.'));
    expect(byExecution.map((e) => [e.type, (e as { executionId?: string }).executionId])).to.have.deep.members(
      rows.map((e) => [e.type, e.execution_id]),
    );
  });
});
