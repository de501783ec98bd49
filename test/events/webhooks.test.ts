import { randomUUID } from 'node:crypto';
import { verifyWebhook, WEBHOOK_HEADERS } from '@flink-orchestrator/outbound-http';
import { expect } from 'chai';
import { migrateToLatest } from '@flink-orchestrator/postgres';
import { assertHarnessIntegrity } from '../support/integrity';
import { PipelineHarness } from '../support/pipeline-harness';
import { databaseUrl, dropDatabase, recreateDatabase, REDIS_PREFIX, TEST_DATABASE } from '../support/test-env';
import { waitFor } from '../support/wait';
import { WebhookReceiver } from '../support/webhook-receiver';

const STREAMING = 'org.apache.flink.streaming.examples.windowing.TopSpeedWindowing';
const SECRET = 'whsec-0123456789abcdef';
/** "Down for a while": every delivery tried this many times, the backoff growing, before it is back. */
const ATTEMPTS_WHILE_DOWN = 5;

// A database and queues of its own: every webhook, event and delivery in them is this file's,
// so what earlier tests left (webhooks, an outbox backlog, queued retries) cannot delay it.
const DATABASE = `${TEST_DATABASE}_webhooks`;

describe('webhooks: events out, signed, retried until the receiver is back', function () {
  this.timeout(180_000);
  const receiver = new WebhookReceiver();
  const own = { DATABASE_URL: databaseUrl(DATABASE), QUEUE_PREFIX: `${REDIS_PREFIX}-webhooks` };
  const h = new PipelineHarness({
    workers: 1,
    apiEnv: own,
    workerEnv: { ...own, WEBHOOK_BACKOFF_MS: '200', WEBHOOK_BACKOFF_MAX_MS: '3000', EVENT_RELAY_INTERVAL_MS: '50' },
  });
  afterEach(() => assertHarnessIntegrity(h));
  before(async () => {
    await recreateDatabase(DATABASE);
    await migrateToLatest(databaseUrl(DATABASE), { info: () => undefined });
    await receiver.start();
    await h.start();
  });
  after(async () => {
    await h.stop();
    await receiver.stop();
    await dropDatabase(DATABASE);
  });

  const feed = async (query: string): Promise<any[]> => {
    const res = await h.http.get(`/api/v1/events?${query}`);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body;
  };

  /** The job's execution events in the feed, once every one of them has been recorded. */
  const executionEvents = (jobId: string, last: string) =>
    waitFor(`the feed to show ${last} of job ${jobId}`, async () => {
      const events = await feed(`jobId=${jobId}&type=execution.*&limit=500`);
      return events.some((e) => e.type === last) ? events : undefined;
    });

  it(`a receiver down through ${ATTEMPTS_WHILE_DOWN} attempts per delivery gets every event once it is back, each verifying with the documented recipe`, async () => {
    const hook = await h.http.post('/api/v1/webhooks', { url: receiver.url, events: ['execution.*'], secret: SECRET });
    expect(hook.status, JSON.stringify(hook.body)).to.equal(201);
    expect(hook.body).to.include({ format: 'json', enabled: true, hasSecret: true });
    expect(hook.body).not.to.have.property('secret');
    await receiver.stop();

    const job = await h.createJob(STREAMING);
    const execution = await h.waitForStatus((await h.start202(job.id)).id, 'RUNNING');
    expect((await h.http.post(`/api/v1/jobs/${job.id}/stop`)).status).to.equal(202);
    await h.waitForStatus(execution.id, 'CANCELLED');
    const sent = await executionEvents(job.id, 'execution.cancelled');
    expect(sent.map((e) => e.type)).to.deep.equal([
      'execution.queued',
      'execution.submitting',
      'execution.running',
      'execution.stopping',
      'execution.cancelled',
    ]);

    // Tried and failed while down, with the reason recorded.
    const deliveries = await waitFor('failed attempts to be recorded', async () => {
      const rows = (await h.http.get(`/api/v1/webhooks/${hook.body.id}/deliveries`)).body as any[];
      return rows.length === sent.length && rows.every((d) => d.attempts >= 1 && d.status === 'PENDING')
        ? rows
        : undefined;
    });
    expect(deliveries[0].lastError).to.match(/ECONNREFUSED/);
    const failing = (await h.http.get(`/api/v1/webhooks/${hook.body.id}`)).body;
    expect(failing.failingSince).to.be.a('string');

    // The outage lasts until every delivery was retried, with the backoff, while the receiver was down.
    const retried = await waitFor(
      `every delivery to fail ${ATTEMPTS_WHILE_DOWN} attempts`,
      async () => {
        const rows = (await h.http.get(`/api/v1/webhooks/${hook.body.id}/deliveries`)).body as any[];
        return rows.every((d) => d.attempts >= ATTEMPTS_WHILE_DOWN && d.status === 'PENDING') ? rows : undefined;
      },
      60_000,
    );
    expect(
      retried.every((d) => /ECONNREFUSED/.test(d.lastError)),
      JSON.stringify(retried),
    ).to.equal(true);
    expect(receiver.received, 'nothing reached the receiver while it was down').to.deep.equal([]);
    await receiver.start();
    await waitFor(
      'every delivery to succeed',
      async () => {
        const rows = (await h.http.get(`/api/v1/webhooks/${hook.body.id}/deliveries`)).body as any[];
        return rows.every((d) => d.status === 'DELIVERED') ? rows : undefined;
      },
      30_000,
    );
    const received = receiver.events().filter((e) => e.jobId === job.id);
    expect(received.map((e) => e.id).sort()).to.deep.equal(sent.map((e) => e.id).sort());
    for (const r of receiver.received) {
      const ok = verifyWebhook(
        SECRET,
        {
          timestamp: String(r.headers[WEBHOOK_HEADERS.timestamp]),
          signature: String(r.headers[WEBHOOK_HEADERS.signature]),
        },
        r.body,
      );
      expect(ok, `signature of ${r.body}`).to.equal(true);
      expect(r.headers[WEBHOOK_HEADERS.id]).to.equal(JSON.parse(r.body).id);
      // A tampered body does not verify.
      expect(
        verifyWebhook(
          SECRET,
          {
            timestamp: String(r.headers[WEBHOOK_HEADERS.timestamp]),
            signature: String(r.headers[WEBHOOK_HEADERS.signature]),
          },
          `${r.body} `,
        ),
      ).to.equal(false);
    }
    const healthy = (await h.http.get(`/api/v1/webhooks/${hook.body.id}`)).body;
    expect(healthy.failingSince).to.equal(null);
    await h.http.delete(`/api/v1/webhooks/${hook.body.id}`);
  });

  it('a slack webhook gets a message a person reads; a job filter keeps other jobs out', async () => {
    receiver.received = [];
    const watched = await h.createJob(STREAMING);
    const other = await h.createJob(STREAMING);
    const hook = await h.http.post('/api/v1/webhooks', {
      url: receiver.url,
      events: ['execution.running'],
      jobId: watched.id,
      format: 'slack',
    });
    expect(hook.status, JSON.stringify(hook.body)).to.equal(201);
    for (const job of [other, watched]) await h.waitForStatus((await h.start202(job.id)).id, 'RUNNING');
    const message = await waitFor('the slack message', () =>
      receiver.received.find((r) => String(JSON.parse(r.body).text).includes(watched.name)),
    );
    const text = String(JSON.parse(message.body).text);
    expect(text).to.match(new RegExp(`job \\*${watched.name}\\*: execution [0-9a-f-]+ RUNNING \\(manual\\)`));
    expect(Object.keys(JSON.parse(message.body))).to.deep.equal(['text']);
    expect(message.headers[WEBHOOK_HEADERS.signature]).to.equal(undefined); // no secret, no signature
    expect(receiver.received.filter((r) => String(JSON.parse(r.body).text).includes(other.name))).to.deep.equal([]);
    for (const job of [other, watched]) await h.http.post(`/api/v1/jobs/${job.id}/stop`);
    await h.http.delete(`/api/v1/webhooks/${hook.body.id}`);
  });

  it('events committed while no worker runs reach the webhook when one starts again', async () => {
    receiver.received = [];
    const hook = await h.http.post('/api/v1/webhooks', { url: receiver.url, events: ['job.*'] });
    for (const w of h.workers) await w.kill('SIGKILL');
    const name = `quiet-${randomUUID().slice(0, 8)}`;
    const job = await h.createJob(STREAMING, { name });
    expect((await h.http.put(`/api/v1/jobs/${job.id}`, { parallelism: 2 })).status).to.equal(200);
    expect((await h.http.delete(`/api/v1/jobs/${job.id}`)).status).to.equal(204);
    expect(receiver.received).to.deep.equal([]);
    h.workers = await h.addWorkers(1);
    const types = await waitFor('the job events', () => {
      const mine = receiver.events().filter((e) => e.jobId === job.id);
      return mine.length === 3 ? mine.map((e) => e.type) : undefined;
    });
    expect(types.sort()).to.deep.equal(['job.created', 'job.deleted', 'job.updated']);
    await h.http.delete(`/api/v1/webhooks/${hook.body.id}`);
  });

  it('the feed pages with a cursor, filters by type and job, and refuses what it did not issue', async () => {
    const job = await h.createJob(STREAMING);
    for (let i = 1; i <= 3; i++) await h.http.put(`/api/v1/jobs/${job.id}`, { parallelism: i + 1 });
    const all = await feed(`jobId=${job.id}`);
    expect(all.map((e) => e.type)).to.deep.equal(['job.created', 'job.updated', 'job.updated', 'job.updated']);
    expect(all[1].data).to.deep.include({ jobName: job.name, changed: ['parallelism'] });
    const first = await h.http.get(`/api/v1/events?jobId=${job.id}&limit=2`);
    expect(first.body.map((e: any) => e.id)).to.deep.equal(all.slice(0, 2).map((e) => e.id));
    expect(first.headers.get('link')).to.include('after=');
    const rest = await feed(`jobId=${job.id}&after=${first.body[1].cursor}`);
    expect(rest.map((e) => e.id)).to.deep.equal(all.slice(2).map((e) => e.id));
    expect(await feed(`jobId=${job.id}&type=job.created`)).to.have.length(1);
    for (const bad of ['after=nope', 'type=execution.bogus', 'jobId=x', 'limit=0']) {
      const res = await h.http.get(`/api/v1/events?${bad}`);
      expect(res.status, bad).to.equal(400);
      expect(res.body.error.code).to.equal('validation_failed');
    }
  });

  it('refuses a webhook URL the outbound guard refuses, an unknown job or event, and changes nothing', async () => {
    const before = (await h.http.get('/api/v1/webhooks')).body.length;
    const refused = [
      { url: 'http://169.254.169.254/latest/meta-data', events: ['*'] },
      { url: 'http://example.com/hook', events: ['*'] },
      { url: 'file:///etc/passwd', events: ['*'] },
      { url: receiver.url, events: ['execution.bogus'] },
      { url: receiver.url, events: [] },
      { url: receiver.url, events: ['*'], jobId: randomUUID() },
      { url: receiver.url, events: ['*'], secret: 'short' },
      { url: receiver.url, events: ['*'], format: 'xml' },
    ];
    for (const body of refused) {
      const res = await h.http.post('/api/v1/webhooks', body);
      expect(res.status, JSON.stringify(body)).to.equal(400);
      expect(res.body.error.code).to.equal('validation_failed');
    }
    const metadata = await h.http.post('/api/v1/webhooks', refused[0]);
    expect(metadata.body.error.message).to.match(
      /Webhook host "169.254.169.254" is not allowed \(WEBHOOK_ALLOWED_HOSTS: 127.0.0.1\)/,
    );
    expect((await h.http.get('/api/v1/webhooks')).body.length).to.equal(before);
    expect((await h.http.get(`/api/v1/webhooks/${randomUUID()}`)).status).to.equal(404);
    expect((await h.http.get('/api/v1/webhooks/not-a-uuid')).body.error.code).to.equal('webhook_not_found');
  });
});
