import { randomUUID } from 'node:crypto';
import type { RunningApi } from '@flink-orchestrator/api';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import { apiRouter, auditChanges, AUDITED_ROUTES, UNAUDITED_ROUTES } from '@flink-orchestrator/http-api';
import Koa from 'koa';
import { connect, type Knex } from '@flink-orchestrator/postgres';
import { expect } from 'chai';
import { startApi } from '../support/api-process';
import { client, type Client } from '../support/http';
import { databaseUrl, REDIS_PREFIX, TEST_READ_TOKEN } from '../support/test-env';

const SECRETS = ['hunter2-db-password', 'whsec-audit-0123456789', 'cluster-pa55-w0rd', 'bearer-abcdef0123456789'];

describe('audit trail: a row per change made through the API, in its transaction, without secrets', () => {
  let api: RunningApi;
  let http: Client;
  let db: Knex;

  before(async () => {
    // A queue no worker consumes: starts stay QUEUED, and a stop cancels them here.
    api = await startApi({ QUEUE_PREFIX: `${REDIS_PREFIX}-audit`, WEBHOOK_ALLOWED_HOSTS: 'hooks.example' });
    http = client(api.url);
    db = connect(databaseUrl());
  });
  after(async () => {
    await db.destroy();
    await api.close();
  });

  const trail = async (query: string): Promise<any[]> => {
    const res = await http.get(`/api/v1/audit?${query}`);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body;
  };

  it('records each change with the token name, the action, the target, what changed and the request id', async () => {
    const made: { action: string; requestId: string }[] = [];
    const call = async (method: string, path: string, body?: unknown, expected = [200, 201, 202, 204]) => {
      const requestId = `audit-${randomUUID()}`;
      const res = await http.call(method, path, body, { 'X-Request-Id': requestId });
      expect(expected, `${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`).to.include(res.status);
      return { res, requestId };
    };
    const created = await call('POST', '/api/v1/jobs', {
      name: `audited-${randomUUID().slice(0, 8)}`,
      jarURL: 'app.jar',
      config: { verbose: true, dbPassword: SECRETS[0] },
    });
    const job = created.res.body;
    made.push({ action: 'job.create', requestId: created.requestId });
    const steps: [string, string, string, unknown?][] = [
      ['job.update', 'PUT', `/api/v1/jobs/${job.id}`, { parallelism: 3 }],
      ['schedule.set', 'POST', `/api/v1/jobs/${job.id}/schedule`, { cron: '0 3 * * *' }],
      ['schedule.remove', 'DELETE', `/api/v1/jobs/${job.id}/schedule`],
      ['job.start', 'POST', `/api/v1/jobs/${job.id}/start`],
      ['job.stop', 'POST', `/api/v1/jobs/${job.id}/stop`],
      [
        'webhook.create',
        'POST',
        '/api/v1/webhooks',
        { url: 'https://hooks.example/x', events: ['*'], jobId: job.id, secret: SECRETS[1] },
      ],
    ];
    let webhookId = '';
    let executionId = '';
    for (const [action, method, path, body] of steps) {
      const { res, requestId } = await call(method, path, body);
      if (action === 'webhook.create') webhookId = res.body.id;
      if (action === 'job.start') executionId = res.body.id;
      made.push({ action, requestId });
    }
    // Written by the change's own transaction: the audit row and the row changed last carry one transaction id.
    const xmin = async (table: string, where: Record<string, string>): Promise<string> => {
      const row: { x: string } | undefined = await db(table).where(where).first(db.raw('xmin::text AS x'));
      return String(row?.x);
    };
    const stop = made.find((m) => m.action === 'job.stop')!;
    expect(await xmin('audit_log', { request_id: stop.requestId })).to.equal(
      await xmin('job_executions', { id: executionId }),
    );
    const hookMade = made.find((m) => m.action === 'webhook.create')!;
    expect(await xmin('audit_log', { request_id: hookMade.requestId })).to.equal(
      await xmin('webhooks', { id: webhookId }),
    );
    const update = await call('PUT', `/api/v1/webhooks/${webhookId}`, { secret: (SECRETS[1] as string).toUpperCase() });
    const cluster = await call('POST', '/api/v1/clusters', {
      name: `audit-${randomUUID().slice(0, 6)}`,
      url: 'http://flink-b:8081',
      auth: { type: 'basic', username: 'ops', password: SECRETS[2] },
    });
    const removed = await call('DELETE', `/api/v1/clusters/${cluster.res.body.name}`);
    const deleted = await call('DELETE', `/api/v1/jobs/${job.id}`);
    made.push({ action: 'job.delete', requestId: deleted.requestId });

    const rows = await trail(`jobId=${job.id}`);
    // Newest first, one per request, each under the request's id.
    expect(rows.map((r) => [r.action, r.requestId])).to.deep.equal(made.map((m) => [m.action, m.requestId]).reverse());
    for (const row of rows) expect(row).to.include({ actor: 'test', jobId: job.id });
    const byAction = new Map(rows.map((r) => [r.action, r]));
    expect(byAction.get('job.create')).to.deep.include({ target: { type: 'job', id: job.id } });
    expect(byAction.get('job.create').changes.config).to.deep.equal({ verbose: true, dbPassword: '[redacted]' });
    expect(byAction.get('job.update').changes).to.deep.equal({ parallelism: 3 });
    expect(byAction.get('job.start').target).to.deep.equal({ type: 'execution', id: executionId });
    expect(byAction.get('schedule.remove').changes).to.equal(null);
    expect(byAction.get('webhook.create').target).to.deep.equal({ type: 'webhook', id: webhookId });
    expect(byAction.get('webhook.create').changes.secret).to.equal('[redacted]');

    const clusterRows = (await trail('actor=test&limit=50')).filter((r) => r.target.id === cluster.res.body.name);
    expect(clusterRows.map((r) => [r.action, r.requestId])).to.deep.equal([
      ['cluster.delete', removed.requestId],
      ['cluster.create', cluster.requestId],
    ]);
    expect(clusterRows[1].changes.auth).to.equal('[redacted]');

    // A webhook changed without naming its job is found by its id (the body did not say the job).
    const webhookRows = (await trail('actor=test&limit=50')).filter((r) => r.target.id === webhookId);
    expect(webhookRows[0]).to.deep.include({ action: 'webhook.update', requestId: update.requestId, jobId: null });
    expect(webhookRows[0].changes).to.deep.equal({ secret: '[redacted]' });

    // No secret anywhere in the trail, nor in the table itself.
    const stored = JSON.stringify((await db('audit_log').select('*')) as unknown[]);
    for (const secret of [...SECRETS, (SECRETS[1] as string).toUpperCase()]) expect(stored).not.to.include(secret);
  });

  it('knows every route that changes something: audited, or named as changing nothing', () => {
    const deps = { metrics: { metrics: {}, refresh: async () => {} } } as never;
    const changing = new Set<string>();
    for (const layer of apiRouter(deps).stack)
      for (const method of layer.methods)
        if (!['GET', 'HEAD'].includes(method)) changing.add(`${method} ${String(layer.path)}`);
    const known = new Set([...Object.keys(AUDITED_ROUTES), ...UNAUDITED_ROUTES]);
    expect([...changing].filter((r) => !known.has(r))).to.deep.equal([]);
    expect([...known].filter((r) => !changing.has(r))).to.deep.equal([]);
  });

  it('a refused request or a change that fails leaves no row; reads leave none', async () => {
    const before = Number((await db('audit_log').count({ n: '*' }))[0]?.n);
    const name = `taken-${randomUUID().slice(0, 8)}`;
    expect((await http.post('/api/v1/jobs', { name, jarURL: 'app.jar' })).status).to.equal(201);
    const after1 = Number((await db('audit_log').count({ n: '*' }))[0]?.n);
    expect(after1).to.equal(before + 1);
    expect((await http.post('/api/v1/jobs', { name, jarURL: 'app.jar' })).status).to.equal(409); // fails in the write
    expect((await http.post('/api/v1/jobs', { name: '', jarURL: 'app.jar' })).status).to.equal(400);
    expect((await http.post(`/api/v1/jobs/${randomUUID()}/stop`)).status).to.equal(404);
    await http.get('/api/v1/jobs');
    expect(Number((await db('audit_log').count({ n: '*' }))[0]?.n)).to.equal(after1);
  });

  it('a change made outside PostgreSQL (a cancel on Flink) whose audit row cannot be written: answered as done, the entry logged', async () => {
    const logged: { fields: Record<string, unknown>; message: string }[] = [];
    const app = new Koa();
    app.use(async (ctx, next) => {
      const log = { error: (fields: Record<string, unknown>, message: string) => logged.push({ fields, message }) };
      Object.assign(ctx.state, { requestId: 'req-1', caller: 'ops', log });
      await next();
    });
    const failing = { record: () => Promise.reject(new Error('database down')), list: () => Promise.resolve([]) };
    app.use(auditChanges(failing));
    const router = new Router();
    router.post('/api/v1/jobs/:id/stop', (ctx) => {
      ctx.status = 202; // the cancel reached Flink; nothing was written to PostgreSQL
      ctx.body = { stopped: true };
    });
    app.use(router.routes());
    const server = app.listen(0);
    try {
      const id = randomUUID();
      const { port } = server.address() as AddressInfo;
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/jobs/${id}/stop`, { method: 'POST' });
      expect(res.status).to.equal(202);
      expect(await res.json()).to.deep.equal({ stopped: true });
      expect(logged).to.have.length(1);
      expect(logged[0]?.message).to.match(/not recorded/);
      expect(logged[0]?.fields.audit).to.include({ action: 'job.stop', actor: 'ops', targetId: id });
    } finally {
      server.close();
    }
  });

  it('filters by actor and time, pages newest first, and needs a write token', async () => {
    const since = new Date().toISOString();
    for (let i = 0; i < 3; i++)
      await http.post('/api/v1/jobs', { name: `page-${randomUUID().slice(0, 8)}`, jarURL: 'a.jar' });
    const recent = await trail(`since=${encodeURIComponent(since)}`);
    expect(recent).to.have.length(3);
    const first = await http.get(`/api/v1/audit?since=${encodeURIComponent(since)}&limit=2`);
    expect(first.body.map((r: any) => r.id)).to.deep.equal(recent.slice(0, 2).map((r) => r.id));
    const next = String(first.headers.get('link')).match(/<([^>]+)>/)?.[1] as string;
    expect((await http.get(next)).body.map((r: any) => r.id)).to.deep.equal([recent[2].id]);
    expect(await trail('actor=nobody')).to.deep.equal([]);
    const reader = client(api.url, TEST_READ_TOKEN);
    const refused = await reader.get('/api/v1/audit');
    expect(refused.status).to.equal(403);
    expect(refused.body.error.message).to.match(/read-only; the audit trail needs a write token/);
    for (const bad of ['jobId=nope', 'since=yesterday', 'actor=' + encodeURIComponent('a b')])
      expect((await http.get(`/api/v1/audit?${bad}`)).status, bad).to.equal(400);
  });
});
