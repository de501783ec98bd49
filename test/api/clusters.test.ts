import { randomUUID } from 'node:crypto';
import type { RunningApi } from '@flink-orchestrator/api';
import { connect, KnexClusterRepository, type Knex } from '@flink-orchestrator/postgres';
import { expect } from 'chai';
import { startApi } from '../support/api-process';
import { client, type Client, type Reply } from '../support/http';
import { REDIS_PREFIX, TEST_READ_TOKEN, databaseUrl } from '../support/test-env';

const unique = (prefix = 'c') => `${prefix}-${randomUUID().slice(0, 8)}`;
const SECRET = 'pa55-w0rd-never-shown';

describe('clusters API', () => {
  let api: RunningApi;
  let http: Client;
  let db: Knex;

  before(async () => {
    // A queue no worker consumes: the executions started here stay QUEUED until stopped.
    api = await startApi({ QUEUE_PREFIX: `${REDIS_PREFIX}-clusters`, FLINK_JOBMANAGER_URL: 'http://jm.example:8081' });
    http = client(api.url);
    db = connect(databaseUrl());
  });
  after(async () => {
    await db.destroy();
    await api.close();
  });

  const createCluster = async (body: Record<string, unknown> = {}) => {
    const res = await http.post('/api/v1/clusters', { name: unique(), url: 'http://flink-a:8081', ...body });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body;
  };

  it('FLINK_JOBMANAGER_URL is the `default` cluster', async () => {
    const res = await http.get('/api/v1/clusters/default');
    expect(res.status).to.equal(200);
    expect(res.body).to.include({ name: 'default', url: 'http://jm.example:8081' });
  });

  it('creates a cluster: 201, Location, and the credentials never come back', async () => {
    const name = unique();
    const res = await http.post('/api/v1/clusters', {
      name,
      url: 'https://flink.example.com/proxy',
      auth: { type: 'basic', username: 'flink', password: SECRET },
      savepointDir: 's3://bucket/savepoints',
    });
    expect(res.status).to.equal(201);
    expect(res.headers.get('location')).to.equal(`/api/v1/clusters/${name}`);
    expect(res.body).to.deep.include({
      name,
      url: 'https://flink.example.com/proxy',
      auth: { type: 'basic' },
      savepointDir: 's3://bucket/savepoints',
    });
    const read = await http.get(`/api/v1/clusters/${name}`);
    // Reading one cluster adds what the observer saw of it: nothing yet.
    expect(read.body).to.deep.equal({ ...res.body, observed: null });
    const listed = await http.get('/api/v1/clusters?limit=500');
    expect(listed.body.map((c: { name: string }) => c.name)).to.include(name);
    for (const answer of [res, read, listed]) expect(JSON.stringify(answer.body)).not.to.contain(SECRET);
    // Stored as given, for the workers.
    const row = await db('clusters').where({ name }).first('auth');
    expect(row.auth).to.deep.equal({ type: 'basic', username: 'flink', password: SECRET });
  });

  it('a bearer token is write-only too; no auth answers null', async () => {
    const bearer = await createCluster({ auth: { type: 'bearer', token: SECRET } });
    expect(bearer.auth).to.deep.equal({ type: 'bearer' });
    const plain = await createCluster();
    expect(plain).to.deep.include({ auth: null, savepointDir: null });
  });

  it('refuses bad names, URLs and credentials with 400 validation_failed naming the field', async () => {
    const bad: [Record<string, unknown>, string][] = [
      [{ name: 'Upper' }, 'name'],
      [{ name: '1abc' }, 'name'],
      [{ name: 'a_b' }, 'name'],
      [{ name: `a${'b'.repeat(63)}` }, 'name'],
      [{ name: '' }, 'name'],
      [{ url: 'ftp://flink:21' }, 'url'],
      [{ url: 'not a url' }, 'url'],
      [{ auth: { type: 'digest', token: 'x' } }, 'auth'],
      [{ auth: { type: 'basic', username: 'u' } }, 'auth'],
      [{ unknown: 1 }, 'unknown'],
    ];
    for (const [fields, field] of bad) {
      const res = await http.post('/api/v1/clusters', { name: unique(), url: 'http://flink:8081', ...fields });
      expect(res.status, JSON.stringify(fields)).to.equal(400);
      expect(res.body.error.code).to.equal('validation_failed');
      expect(res.body.error.details.map((d: { field: string }) => d.field)).to.include(field);
    }
    const ok = await http.post('/api/v1/clusters', { name: `a${'b'.repeat(62)}`, url: 'http://flink:8081' });
    expect(ok.status).to.equal(201);
  });

  it('409 cluster_name_taken on a duplicate name', async () => {
    const { name } = await createCluster();
    const res = await http.post('/api/v1/clusters', { name, url: 'http://other:8081' });
    expect(res.status).to.equal(409);
    expect(res.body.error.code).to.equal('cluster_name_taken');
  });

  it('404 cluster_not_found for an unknown name, and for one that is no slug', async () => {
    for (const name of [unique('missing'), 'Not_A_Slug']) {
      for (const res of [
        await http.get(`/api/v1/clusters/${name}`),
        await http.put(`/api/v1/clusters/${name}`, { url: 'http://x:8081' }),
        await http.delete(`/api/v1/clusters/${name}`),
      ]) {
        expect(res.status).to.equal(404);
        expect(res.body.error.code).to.equal('cluster_not_found');
      }
    }
  });

  it('PUT changes what it names and keeps the rest; auth null removes the credentials', async () => {
    const created = await createCluster({ auth: { type: 'bearer', token: SECRET }, savepointDir: 'file:///sp' });
    const moved = await http.put(`/api/v1/clusters/${created.name}`, { url: 'http://flink-b:8081' });
    expect(moved.status).to.equal(200);
    expect(moved.body).to.deep.include({
      url: 'http://flink-b:8081',
      auth: { type: 'bearer' },
      savepointDir: 'file:///sp',
    });
    const cleared = await http.put(`/api/v1/clusters/${created.name}`, { auth: null, savepointDir: null });
    expect(cleared.body).to.deep.include({ url: 'http://flink-b:8081', auth: null, savepointDir: null });
    const empty = await http.put(`/api/v1/clusters/${created.name}`, {});
    expect(empty.status).to.equal(400);
    const renamed = await http.put(`/api/v1/clusters/${created.name}`, { name: 'other' });
    expect(renamed.status).to.equal(400);
  });

  it('pages oldest first with limit and cursor, following Link rel="next"', async () => {
    const mine = [await createCluster(), await createCluster(), await createCluster()].map((c) => c.name);
    const seen: string[] = [];
    let next: string | null = '/api/v1/clusters?limit=2';
    while (next) {
      const page: Reply = await http.get(next);
      expect(page.status).to.equal(200);
      expect(page.body.length).to.be.at.most(2);
      seen.push(...page.body.map((c: { name: string }) => c.name));
      const link: string | null = page.headers.get('link');
      next = link ? (/<([^>]+)>; rel="next"/.exec(link)?.[1] ?? null) : null;
    }
    expect(new Set(seen).size).to.equal(seen.length);
    expect(seen.slice(-3)).to.deep.equal(mine);
    expect((await http.get('/api/v1/clusters?limit=0')).status).to.equal(400);
  });

  it('needs a token; a read-only token reads but does not change', async () => {
    expect((await client(api.url, null).get('/api/v1/clusters')).status).to.equal(401);
    const reader = client(api.url, TEST_READ_TOKEN);
    expect((await reader.get('/api/v1/clusters')).status).to.equal(200);
    const refused = await reader.post('/api/v1/clusters', { name: unique(), url: 'http://x:8081' });
    expect(refused.status).to.equal(403);
    expect(refused.body.error.code).to.equal('forbidden');
  });

  describe('jobs on clusters', () => {
    const job = (overrides: Record<string, unknown> = {}) => ({ name: unique('job'), jarURL: 'app.jar', ...overrides });

    it('a job runs on `default` unless it names a cluster', async () => {
      const plain = await http.post('/api/v1/jobs', job());
      expect(plain.body.cluster).to.equal('default');
      const { name } = await createCluster();
      const placed = await http.post('/api/v1/jobs', job({ cluster: name }));
      expect(placed.status).to.equal(201);
      expect(placed.body.cluster).to.equal(name);
      const moved = await http.put(`/api/v1/jobs/${plain.body.id}`, { cluster: name });
      expect(moved.status).to.equal(200);
      expect(moved.body.cluster).to.equal(name);
    });

    it('a job naming an unknown cluster: 400 validation_failed on "cluster"', async () => {
      const missing = unique('nope');
      const created = await http.post('/api/v1/jobs', job({ cluster: missing }));
      expect(created.status).to.equal(400);
      expect(created.body.error).to.deep.include({ code: 'validation_failed' });
      expect(created.body.error.message).to.contain(missing);
      expect(created.body.error.details).to.deep.equal([{ field: 'cluster', message: created.body.error.message }]);
      const existing = await http.post('/api/v1/jobs', job());
      const moved = await http.put(`/api/v1/jobs/${existing.body.id}`, { cluster: missing });
      expect(moved.status).to.equal(400);
      expect(moved.body.error.details[0].field).to.equal('cluster');
      expect((await http.post('/api/v1/jobs', job({ cluster: 'Bad Name' }))).status).to.equal(400);
    });

    it('deleting a cluster that jobs use: 409 cluster_in_use naming how many; 204 once none does', async () => {
      const { name } = await createCluster();
      const a = await http.post('/api/v1/jobs', job({ cluster: name }));
      await http.post('/api/v1/jobs', job({ cluster: name }));
      const refused = await http.delete(`/api/v1/clusters/${name}`);
      expect(refused.status).to.equal(409);
      expect(refused.body.error.code).to.equal('cluster_in_use');
      expect(refused.body.error.details).to.deep.equal({ jobs: 2 });
      expect(refused.body.error.message).to.contain('2 jobs');
      await http.delete(`/api/v1/jobs/${a.body.id}`);
      const one = await http.delete(`/api/v1/clusters/${name}`);
      expect(one.body.error.message).to.contain('1 job;');
      const jobs = await db('jobs').where({ cluster: name }).select('id');
      for (const { id } of jobs) await http.delete(`/api/v1/jobs/${id}`);
      expect((await http.delete(`/api/v1/clusters/${name}`)).status).to.equal(204);
      expect((await http.get(`/api/v1/clusters/${name}`)).status).to.equal(404);
    });

    it('moving a job with an active execution: 409 execution_active; the execution keeps its cluster', async () => {
      const first = await createCluster();
      const second = await createCluster();
      const created = await http.post('/api/v1/jobs', job({ cluster: first.name }));
      const started = await http.post(`/api/v1/jobs/${created.body.id}/start`);
      expect(started.status).to.equal(202);
      expect(started.body.cluster).to.equal(first.name);
      try {
        const moved = await http.put(`/api/v1/jobs/${created.body.id}`, { cluster: second.name });
        expect(moved.status).to.equal(409);
        expect(moved.body.error.code).to.equal('execution_active');
        // Naming the cluster it is on already is no move.
        expect((await http.put(`/api/v1/jobs/${created.body.id}`, { cluster: first.name })).status).to.equal(200);
      } finally {
        expect((await http.post(`/api/v1/jobs/${created.body.id}/stop`)).body.status).to.equal('CANCELLED');
      }
      const moved = await http.put(`/api/v1/jobs/${created.body.id}`, { cluster: second.name });
      expect(moved.status).to.equal(200);
      const history = await http.get(`/api/v1/jobs/${created.body.id}/executions`);
      expect(history.body[0].cluster).to.equal(first.name);
    });
  });

  it('the default cluster at start: one statement, so processes starting together all succeed', async () => {
    const repository = new KnexClusterRepository(db);
    const name = unique('boot');
    const results = await Promise.all(Array.from({ length: 5 }, () => repository.upsertUrl(name, 'http://jm-1:8081')));
    expect(new Set(results.map((c) => c.id)).size).to.equal(1);
    const version = results[0]?.version;
    expect((await repository.upsertUrl(name, 'http://jm-1:8081')).version).to.equal(version);
    const moved = await repository.upsertUrl(name, 'http://jm-2:8081');
    expect(moved).to.include({ url: 'http://jm-2:8081', version: (version ?? 0) + 1 });
  });
});
