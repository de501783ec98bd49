import { randomUUID } from 'node:crypto';
import type { RunningApi } from '@flink-orchestrator/api';
import { connect, KnexExecutionRepository, migrateToLatest, type Knex } from '@flink-orchestrator/postgres';
import { expect } from 'chai';
import { startApi } from '../support/api-process';
import { client, type Client, type Reply } from '../support/http';
import { databaseUrl, dropDatabase, recreateDatabase, TEST_DATABASE } from '../support/test-env';

/** GET /api/v1/executions, on a database of its own so that every row in it is known. */
describe('execution history across jobs (GET /api/v1/executions)', () => {
  const name = `${TEST_DATABASE}_history`;
  let api: RunningApi;
  let http: Client;
  let db: Knex;
  const ids: Record<string, string> = {};
  let jobA: string;
  let jobB: string;

  before(async () => {
    await recreateDatabase(name);
    await migrateToLatest(databaseUrl(name), { info: () => undefined });
    api = await startApi({ DATABASE_URL: databaseUrl(name) });
    http = client(api.url);
    db = connect(databaseUrl(name));
    const job = async () =>
      (await http.post('/api/v1/jobs', { name: `history-${randomUUID().slice(0, 8)}`, jarURL: 'a.jar' })).body.id;
    jobA = await job();
    jobB = await job();
    const rows: [string, string, string, string, string][] = [
      // key, job, status, trigger, created_at
      ['a1', jobA, 'FAILED', 'schedule', '2001-01-01T10:00:00.000Z'],
      ['a2', jobA, 'FAILED', 'manual', '2001-01-01T11:00:00.000Z'],
      ['a3', jobA, 'FINISHED', 'schedule', '2001-01-01T12:00:00.000Z'],
      ['a4', jobA, 'FAILED', 'schedule', '2001-01-02T09:00:00.000Z'],
      ['b1', jobB, 'FAILED', 'schedule', '2001-01-01T13:00:00.000Z'],
      ['b2', jobB, 'SKIPPED', 'schedule', '2001-01-01T14:00:00.000Z'],
      ['b3', jobB, 'FAILED', 'schedule', '2000-12-31T23:00:00.000Z'],
      // Three at the same instant: the cursor must tell them apart by id.
      ['t1', jobB, 'LOST', 'manual', '2001-01-03T00:00:00.000Z'],
      ['t2', jobB, 'LOST', 'manual', '2001-01-03T00:00:00.000Z'],
      ['t3', jobB, 'LOST', 'manual', '2001-01-03T00:00:00.000Z'],
    ];
    for (const [key, jobId, status, trigger, at] of rows) {
      const [row] = await db('job_executions')
        .insert({ job_id: jobId, status, trigger, created_at: at, finished_at: at })
        .returning('id');
      ids[key] = row.id as string;
    }
  });
  after(async () => {
    await api?.close();
    await db?.destroy();
    await dropDatabase(name);
  });

  const keysOf = (res: Reply) => {
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    const byId = Object.fromEntries(Object.entries(ids).map(([k, v]) => [v, k]));
    return (res.body as { id: string }[]).map((e) => byId[e.id] ?? e.id);
  };

  it('"every failed scheduled run in a day" in one call, newest first', async () => {
    const res = await http.get(
      '/api/v1/executions?status=FAILED&trigger=schedule&since=2001-01-01T00:00:00Z&until=2001-01-02',
    );
    expect(keysOf(res)).to.deep.equal(['b1', 'a1']);
    expect(res.body[0]).to.include({ jobId: jobB, status: 'FAILED', trigger: 'schedule' });
    expect(res.headers.get('link')).to.equal(null);
  });

  it('each filter on its own, and jobId', async () => {
    const all = keysOf(await http.get('/api/v1/executions'));
    expect(all.slice(3)).to.deep.equal(['a4', 'b2', 'b1', 'a3', 'a2', 'a1', 'b3']);
    expect(all.slice(0, 3).sort()).to.deep.equal(['t1', 't2', 't3']);
    expect(keysOf(await http.get(`/api/v1/executions?jobId=${jobA}`))).to.deep.equal(['a4', 'a3', 'a2', 'a1']);
    expect(keysOf(await http.get(`/api/v1/executions?jobId=${jobA}&status=FAILED&trigger=manual`))).to.deep.equal([
      'a2',
    ]);
    expect(keysOf(await http.get('/api/v1/executions?trigger=schedule&until=2001-01-01T12:00:00Z'))).to.deep.equal([
      'a1',
      'b3',
    ]);
    // since is inclusive, until exclusive; an offset counts, even with its "+" left unencoded.
    expect(
      keysOf(await http.get('/api/v1/executions?since=2001-01-01T12:00:00%2B01:00&until=2001-01-01T14:00:00+01:00')),
    ).to.deep.equal(['a3', 'a2']);
    expect(keysOf(await http.get(`/api/v1/executions?jobId=${randomUUID()}`))).to.deep.equal([]);
  });

  it('walks a filtered history page by page with Link rel="next", each execution once, ties included', async () => {
    const seen: string[] = [];
    let next: string | null = '/api/v1/executions?limit=2&trigger=manual';
    let pages = 0;
    while (next) {
      const res: Reply = await http.get(next);
      seen.push(...keysOf(res));
      expect(res.body.length).to.be.at.most(2);
      next = /<([^>]+)>; rel="next"/.exec(res.headers.get('link') ?? '')?.[1] ?? null;
      if (next) expect(next).to.contain('trigger=manual');
      pages++;
    }
    expect(pages).to.equal(2);
    expect(seen.slice(0, 3).sort()).to.deep.equal(['t1', 't2', 't3']);
    expect(seen.slice(3)).to.deep.equal(['a2']);
  });

  describe('every parameter is validated: 400 validation_failed naming it', () => {
    const cases: [string, string][] = [
      ['status=failed', 'status'],
      ['status=NOPE', 'status'],
      ['status=FAILED&status=LOST', 'status'],
      ['trigger=cron', 'trigger'],
      ['jobId=nope', 'jobId'],
      ["jobId=1' OR '1'='1", 'jobId'],
      ['since=yesterday', 'since'],
      ['since=2001-02-30', 'since'],
      ['since=2001-01-01T24:00:00Z', 'since'],
      ['since=2001-01-01T10:00:00', 'since'],
      ['until=1700000000', 'until'],
      ['since=2001-01-02&until=2001-01-01', 'until'],
      ['since=2001-01-01&until=2001-01-01', 'until'],
      ['limit=0', 'limit'],
      ['limit=501', 'limit'],
      ['cursor=not-a-cursor', 'cursor'],
      ['state=FAILED', 'state'],
      ['jobid=x', 'jobid'],
    ];
    for (const [query, field] of cases) {
      it(query, async () => {
        const res = await http.get(`/api/v1/executions?${query}`);
        expect(res.status, JSON.stringify(res.body)).to.equal(400);
        expect(res.body.error.code).to.equal('validation_failed');
        expect(res.body.error.details.map((d: { field: string }) => d.field)).to.include(field);
      });
    }
  });

  it('each filter is served by an index, not a scan of the table (EXPLAIN on a few thousand rows)', async () => {
    const rows = Array.from({ length: 3000 }, (_, i) => ({
      // One job among many: its rows are few, as they are in a fleet's history.
      job_id: i % 50 === 0 ? jobA : jobB,
      // Failures rare, as in a real history: a scan of the newest rows filtering for them is no plan.
      status: i % 97 === 0 ? 'FAILED' : ['SKIPPED', 'SKIPPED', 'SKIPPED', 'FINISHED', 'MISSED', 'CANCELLED'][i % 6],
      trigger: i % 3 ? 'schedule' : 'manual',
      created_at: new Date(Date.UTC(1999, 0, 1) + i * 60_000),
    }));
    await db.batchInsert('job_executions', rows, 500);
    await db.raw('ANALYZE job_executions');
    const repository = new KnexExecutionRepository(db);
    const plans: Record<string, string> = {};
    let last: { sql: string; bindings: unknown[] } | null = null;
    const capture = (q: { sql: string; bindings: unknown[] }) => (last = q);
    db.on('query', capture);
    try {
      const since = new Date(Date.UTC(1999, 0, 2));
      const filters = {
        job_executions_status_newest_idx: { status: 'FAILED', trigger: 'schedule', since },
        job_executions_newest_idx: { since, until: new Date(Date.UTC(1999, 0, 3)) },
        job_executions_job_newest_idx: { jobId: jobA },
      } as const;
      for (const [index, filter] of Object.entries(filters)) {
        await repository.list(filter, { limit: 51 });
        const query = last as unknown as { sql: string; bindings: never[] };
        const explained = await db.raw(`EXPLAIN ${query.sql.replace(/\$\d+/g, '?')}`, query.bindings);
        plans[index] = explained.rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n');
        expect(plans[index], plans[index]).to.contain(index);
        expect(plans[index], plans[index]).not.to.contain('Seq Scan');
      }
    } finally {
      db.removeListener('query', capture);
    }
  });
});
