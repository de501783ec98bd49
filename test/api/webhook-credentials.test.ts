import { randomUUID } from 'node:crypto';
import type { RunningApi } from '@flink-orchestrator/api';
import { connect, type Knex } from '@flink-orchestrator/postgres';
import { expect } from 'chai';
import { startApi } from '../support/api-process';
import { client, type Client } from '../support/http';
import { databaseUrl, REDIS_PREFIX, TEST_READ_TOKEN } from '../support/test-env';
import { waitFor } from '../support/wait';

/**
 * A Slack incoming-webhook URL carries its credential in the path: write tokens see it whole,
 * read-only tokens, the audit trail and the `webhook.disabled` event only its scheme and host.
 */
describe('webhook URLs are credentials: shown whole only to write tokens', () => {
  let api: RunningApi;
  let http: Client;
  let reader: Client;
  let db: Knex;

  before(async () => {
    api = await startApi({ QUEUE_PREFIX: `${REDIS_PREFIX}-hook-urls`, WEBHOOK_ALLOWED_HOSTS: 'hooks.slack.com' });
    http = client(api.url);
    reader = client(api.url, TEST_READ_TOKEN);
    db = connect(databaseUrl());
  });
  // Enabled webhooks left behind would be delivered to by every later test's workers.
  const made: string[] = [];
  after(async () => {
    if (db && made.length > 0) await db('webhooks').whereIn('id', made).delete();
    await api?.close();
    await db?.destroy();
  });

  /** A Slack URL whose path is the credential, distinct per test. */
  const slackUrl = () => {
    const credential = `T0${randomUUID().slice(0, 8)}/B0${randomUUID().slice(0, 8)}/${randomUUID().replace(/-/g, '')}`;
    return { url: `https://hooks.slack.com/services/${credential}`, credential };
  };
  const createHook = async (url: string) => {
    const res = await http.post('/api/v1/webhooks', { url, events: ['execution.failed'], format: 'slack' });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    made.push(res.body.id);
    return res.body as { id: string; url: string };
  };

  it('a read-only token sees the host only, in the webhook and in the list; a write token sees it whole', async () => {
    const { url, credential } = slackUrl();
    const hook = await createHook(url);
    expect(hook.url).to.equal(url);
    expect((await http.get(`/api/v1/webhooks/${hook.id}`)).body.url).to.equal(url);
    const mine = (list: { id: string; url: string }[]) => list.find((w) => w.id === hook.id);
    expect(mine((await http.get('/api/v1/webhooks?limit=500')).body)?.url).to.equal(url);

    const one = await reader.get(`/api/v1/webhooks/${hook.id}`);
    expect(one.status).to.equal(200);
    expect(one.body.url).to.equal('https://hooks.slack.com/…');
    const list = await reader.get('/api/v1/webhooks?limit=500');
    expect(list.status).to.equal(200);
    expect(mine(list.body)?.url).to.equal('https://hooks.slack.com/…');
    expect(JSON.stringify([one.body, list.body])).not.to.contain(credential.split('/')[2]);
  });

  it('the audit trail keeps the host of the URL a create or an update sent, never its credential', async () => {
    const first = slackUrl();
    const hook = await createHook(first.url);
    const second = slackUrl();
    const changed = await http.put(`/api/v1/webhooks/${hook.id}`, { url: second.url });
    expect(changed.status, JSON.stringify(changed.body)).to.equal(200);
    expect(changed.body.url).to.equal(second.url);

    const rows = await db('audit_log').where({ target_id: hook.id }).orderBy('created_at');
    expect(rows.map((r: { action: string }) => r.action)).to.deep.equal(['webhook.create', 'webhook.update']);
    for (const row of rows as { changes: { url: string } }[])
      expect(row.changes.url).to.equal('https://hooks.slack.com/…');
    const stored = JSON.stringify(rows);
    for (const { credential } of [first, second]) expect(stored).not.to.contain(credential.split('/')[2]);
    const read = await http.get('/api/v1/audit?limit=500');
    expect(read.status, JSON.stringify(read.body)).to.equal(200);
    const entries = read.body.filter((e: { target: { id: string } }) => e.target.id === hook.id);
    expect(entries.map((e: { changes: { url: string } }) => e.changes.url)).to.deep.equal([
      'https://hooks.slack.com/…',
      'https://hooks.slack.com/…',
    ]);
  });

  it('the webhook.disabled event names the host only', async () => {
    const { url, credential } = slackUrl();
    const hook = await createHook(url);
    // As the delivery chore disables a webhook failing too long (its trigger writes the event).
    await db('webhooks').where({ id: hook.id }).update({ enabled: false, disabled_reason: 'failing for 24 h' });
    const event = await waitFor('the webhook.disabled event in the feed', async () => {
      const feed = await reader.get('/api/v1/events?type=webhook.disabled&limit=500');
      expect(feed.status, JSON.stringify(feed.body)).to.equal(200);
      return feed.body.find((e: { data: { webhookId: string } }) => e.data.webhookId === hook.id);
    });
    expect(event.data.url).to.equal('https://hooks.slack.com/…');
    expect(JSON.stringify(event)).not.to.contain(credential.split('/')[2]);
  });
});
