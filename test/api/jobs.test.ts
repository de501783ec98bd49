import { randomUUID } from 'node:crypto';
import type { RunningApi } from '@flink-orchestrator/api';
import { expect } from 'chai';
import { startApi } from '../support/api-process';
import { client, type Client, type Reply } from '../support/http';

const unique = (prefix = 'job') => `${prefix}-${randomUUID().slice(0, 8)}`;
const validJob = (overrides: Record<string, unknown> = {}) => ({
  name: unique(),
  jarURL: 'http://data-processor:8080/jars/wordcount.jar',
  entryClass: 'org.apache.flink.streaming.examples.wordcount.WordCount',
  config: { input: '/data/in.txt', windowSize: 10, verbose: true },
  ...overrides,
});

describe('jobs API', () => {
  let api: RunningApi;
  let http: Client;

  before(async () => {
    api = await startApi();
    http = client(api.url);
  });
  after(() => api.close());

  describe('POST /api/v1/jobs', () => {
    it('creates a job: 201, Location, the job in the body', async () => {
      const input = validJob({ parallelism: 4 });
      const res = await http.post('/api/v1/jobs', input);
      expect(res.status).to.equal(201);
      expect(res.headers.get('location')).to.equal(`/api/v1/jobs/${res.body.id}`);
      expect(res.body).to.include({
        name: input.name,
        jarURL: input.jarURL,
        entryClass: input.entryClass,
        parallelism: 4,
        enabled: true,
        schedule: null,
      });
      expect(res.body.config).to.deep.equal(input.config);
      expect(new Date(res.body.createdAt).toISOString()).to.equal(res.body.createdAt);
      expect(res.body.updatedAt).to.be.a('string');
      const read = await http.get(`/api/v1/jobs/${res.body.id}`);
      expect(read.status).to.equal(200);
      expect(read.body).to.deep.equal(res.body);
    });

    it('accepts a bare JAR file name and leaves entryClass, config and parallelism optional', async () => {
      const res = await http.post('/api/v1/jobs', { name: unique('bare'), jarURL: 'data-processor.jar' });
      expect(res.status).to.equal(201);
      expect(res.body).to.include({ jarURL: 'data-processor.jar', entryClass: null, parallelism: null });
      expect(res.body.config).to.deep.equal({});
    });

    it('refuses a name already taken with 409 job_name_taken', async () => {
      const input = validJob();
      expect((await http.post('/api/v1/jobs', input)).status).to.equal(201);
      const res = await http.post('/api/v1/jobs', { ...input, jarURL: 'other.jar' });
      expect(res.status).to.equal(409);
      expect(res.body.error.code).to.equal('job_name_taken');
    });

    it('lets exactly one of many concurrent creates with the same name win', async () => {
      const input = validJob();
      const replies = await Promise.all(Array.from({ length: 12 }, () => http.post('/api/v1/jobs', input)));
      const statuses = replies.map((r) => r.status).sort();
      expect(statuses.filter((s) => s === 201)).to.have.length(1);
      expect(statuses.filter((s) => s === 409)).to.have.length(11);
    });
  });

  describe('validation: a bad field gets 400 validation_failed naming it, and nothing is stored', () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['missing name', { name: undefined }, 'name'],
      ['empty name', { name: '' }, 'name'],
      ['name of 256 characters', { name: 'a'.repeat(256) }, 'name'],
      ['name with a slash', { name: 'a/b' }, 'name'],
      ['name with a leading space', { name: ' padded' }, 'name'],
      ['name not a string', { name: 42 }, 'name'],
      ['missing jarURL', { jarURL: undefined }, 'jarURL'],
      ['jarURL with ftp scheme', { jarURL: 'ftp://host/x.jar' }, 'jarURL'],
      ['jarURL relative path', { jarURL: '../etc/passwd' }, 'jarURL'],
      ['jarURL bare name without .jar', { jarURL: 'processor.zip' }, 'jarURL'],
      ['entryClass not a class name', { entryClass: 'com.example.Main; rm -rf /' }, 'entryClass'],
      ['entryClass starting with a digit', { entryClass: '1com.Main' }, 'entryClass'],
      ['config not an object', { config: ['--a', 'b'] }, 'config'],
      ['config with a nested object', { config: { nested: { a: 1 } } }, 'config.nested'],
      ['config with a null value', { config: { a: null } }, 'config.a'],
      ['config with a bad key', { config: { '--flag': 'x' } }, 'config.--flag'],
      [
        'config with 101 keys',
        { config: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`k${i}`, i])) },
        'config',
      ],
      ['parallelism 0', { parallelism: 0 }, 'parallelism'],
      ['parallelism 10001', { parallelism: 10_001 }, 'parallelism'],
      ['parallelism fractional', { parallelism: 1.5 }, 'parallelism'],
      ['parallelism as a string', { parallelism: '4' }, 'parallelism'],
      ['enabled not a boolean', { enabled: 'yes' }, 'enabled'],
      ['an unknown field', { jarUrl: 'x.jar' }, 'jarUrl'],
      ['a bad scheduleCron', { scheduleCron: 'every minute' }, 'cron'],
    ];
    for (const [title, change, field] of cases) {
      it(title, async () => {
        const input = validJob(change);
        const res = await http.post('/api/v1/jobs', input);
        expect(res.status, JSON.stringify(res.body)).to.equal(400);
        expect(res.body.error.code).to.equal('validation_failed');
        expect(res.body.error.message).to.be.a('string').and.not.empty;
        expect(res.body.error.details.map((d: { field: string }) => d.field)).to.include(field);
        if (typeof input.name === 'string' && input.name.length > 0 && input.name.length <= 255) {
          const listed = await listAll(http);
          expect(listed.map((j) => j.name)).not.to.include(input.name);
        }
      });
    }
  });

  describe('request errors', () => {
    it('malformed JSON → 400 malformed_json', async () => {
      const res = await http.post('/api/v1/jobs', '{"name": "x",', { 'content-type': 'application/json' });
      expect(res.status).to.equal(400);
      expect(res.body.error.code).to.equal('malformed_json');
    });

    it('a body that is not JSON → 415', async () => {
      const res = await http.post('/api/v1/jobs', 'name=x', { 'content-type': 'application/x-www-form-urlencoded' });
      expect(res.status).to.equal(415);
      expect(res.body.error.code).to.equal('unsupported_media_type');
    });

    it('a body over the limit → 413', async () => {
      const res = await http.post('/api/v1/jobs', validJob({ config: { big: 'x'.repeat(300_000) } }));
      expect(res.status).to.equal(413);
      expect(res.body.error.code).to.equal('payload_too_large');
    });

    it('a JSON array as body → 400 validation_failed', async () => {
      const res = await http.post('/api/v1/jobs', [validJob()]);
      expect(res.status).to.equal(400);
      expect(res.body.error.code).to.equal('validation_failed');
    });

    it('an id that is not a UUID → 404 job_not_found, as an unknown one', async () => {
      for (const id of ['nope', '1', "1' OR '1'='1", randomUUID()]) {
        const res = await http.get(`/api/v1/jobs/${encodeURIComponent(id)}`);
        expect(res.status).to.equal(404);
        expect(res.body.error.code).to.equal('job_not_found');
      }
    });

    it('an unknown route → 404 JSON; every answer carries X-Request-Id', async () => {
      const res = await http.get('/api/v1/nothing-here');
      expect(res.status).to.equal(404);
      expect(res.body.error.code).to.equal('route_not_found');
      expect(res.headers.get('x-request-id')).to.match(/^[0-9a-f-]{36}$/);
    });

    it('echoes a sane incoming X-Request-Id', async () => {
      const res = await http.get('/health/live', { 'x-request-id': 'trace-abc.123' });
      expect(res.headers.get('x-request-id')).to.equal('trace-abc.123');
    });
  });

  describe('GET /api/v1/jobs pagination', () => {
    it('walks every job exactly once, oldest first, following Link rel="next"', async () => {
      const created: string[] = [];
      for (let i = 0; i < 7; i++) created.push((await http.post('/api/v1/jobs', validJob())).body.id);
      const seen: string[] = [];
      let next: string | null = '/api/v1/jobs?limit=3';
      let pages = 0;
      while (next) {
        const res: Reply = await http.get(next);
        expect(res.status).to.equal(200);
        expect(res.body).to.be.an('array').with.length.at.most(3);
        seen.push(...res.body.map((j: { id: string }) => j.id));
        const link: string | null = res.headers.get('link');
        next = link ? (/<([^>]+)>; rel="next"/.exec(link)?.[1] ?? null) : null;
        pages++;
      }
      expect(pages).to.be.greaterThan(2);
      expect(new Set(seen).size).to.equal(seen.length);
      const positions = created.map((id) => seen.indexOf(id));
      expect(positions.every((p) => p >= 0)).to.equal(true);
      expect(positions).to.deep.equal([...positions].sort((a, b) => a - b));
    });

    it('defaults to 50 and refuses limits outside 1..500 and foreign cursors', async () => {
      for (let i = 0; i < 3; i++) await http.post('/api/v1/jobs', validJob());
      expect((await http.get('/api/v1/jobs')).body.length).to.be.at.most(50);
      for (const query of [
        'limit=0',
        'limit=501',
        'limit=abc',
        'cursor=not-a-cursor',
        `cursor=${Buffer.from('["x","y"]').toString('base64url')}`,
      ]) {
        const res = await http.get(`/api/v1/jobs?${query}`);
        expect(res.status, query).to.equal(400);
        expect(res.body.error.code).to.equal('validation_failed');
      }
    });
  });

  describe('PUT and DELETE /api/v1/jobs/:id', () => {
    it('PUT changes only the fields given', async () => {
      const created = (await http.post('/api/v1/jobs', validJob({ parallelism: 2 }))).body;
      const res = await http.put(`/api/v1/jobs/${created.id}`, { parallelism: 8, config: { mode: 'fast' } });
      expect(res.status).to.equal(200);
      expect(res.body).to.include({
        name: created.name,
        jarURL: created.jarURL,
        entryClass: created.entryClass,
        parallelism: 8,
      });
      expect(res.body.config).to.deep.equal({ mode: 'fast' });
      expect(new Date(res.body.updatedAt).getTime()).to.be.at.least(new Date(created.updatedAt).getTime());
      const cleared = await http.put(`/api/v1/jobs/${created.id}`, { entryClass: null, parallelism: null });
      expect(cleared.body).to.include({ entryClass: null, parallelism: null });
    });

    it('a rejected PUT changes nothing', async () => {
      const created = (await http.post('/api/v1/jobs', validJob())).body;
      const res = await http.put(`/api/v1/jobs/${created.id}`, { name: 'valid-name', parallelism: -1 });
      expect(res.status).to.equal(400);
      expect((await http.get(`/api/v1/jobs/${created.id}`)).body).to.deep.equal(created);
    });

    it('a PUT that names no field → 400, also with no body at all', async () => {
      const created = (await http.post('/api/v1/jobs', validJob())).body;
      for (const body of [{}, undefined]) {
        const res = await http.put(`/api/v1/jobs/${created.id}`, body);
        expect(res.status).to.equal(400);
        expect(res.body.error.code).to.equal('validation_failed');
        expect(res.body.error.message).to.match(/at least one field/);
      }
      expect((await http.get(`/api/v1/jobs/${created.id}`)).body).to.deep.equal(created);
    });

    it('PUT to a taken name → 409; to an unknown job → 404', async () => {
      const a = (await http.post('/api/v1/jobs', validJob())).body;
      const b = (await http.post('/api/v1/jobs', validJob())).body;
      const res = await http.put(`/api/v1/jobs/${b.id}`, { name: a.name });
      expect(res.status).to.equal(409);
      expect(res.body.error.code).to.equal('job_name_taken');
      expect((await http.put(`/api/v1/jobs/${randomUUID()}`, { enabled: false })).status).to.equal(404);
    });

    it('DELETE → 204, then the job is gone', async () => {
      const created = (await http.post('/api/v1/jobs', validJob())).body;
      expect((await http.delete(`/api/v1/jobs/${created.id}`)).status).to.equal(204);
      expect((await http.get(`/api/v1/jobs/${created.id}`)).status).to.equal(404);
      expect((await http.delete(`/api/v1/jobs/${created.id}`)).status).to.equal(404);
    });
  });
  describe('versions: ETag, If-Match and the version field', () => {
    it('a job carries its version, in the body and as the ETag; each change raises it', async () => {
      const created = await http.post('/api/v1/jobs', validJob());
      expect(created.body.version).to.equal(1);
      expect(created.headers.get('etag')).to.equal('"1"');
      const read = await http.get(`/api/v1/jobs/${created.body.id}`);
      expect(read.headers.get('etag')).to.equal('"1"');
      const changed = await http.put(`/api/v1/jobs/${created.body.id}`, { parallelism: 3 });
      expect(changed.body.version).to.equal(2);
      expect(changed.headers.get('etag')).to.equal('"2"');
    });

    it('If-Match "N", If-Match N, W/"N", * and a version field are honoured when current', async () => {
      const { id } = (await http.post('/api/v1/jobs', validJob())).body;
      const attempts: [Record<string, string>, Record<string, unknown>][] = [
        [{ 'if-match': '"1"' }, {}],
        [{ 'if-match': '2' }, {}],
        [{ 'if-match': 'W/"3"' }, {}],
        [{ 'if-match': '*' }, {}],
        [{}, { version: 5 }],
        [{ 'if-match': '"6"' }, { version: 6 }],
      ];
      for (const [i, [headers, extra]] of attempts.entries()) {
        const res = await http.put(`/api/v1/jobs/${id}`, { parallelism: i + 1, ...extra }, headers);
        expect(res.status, JSON.stringify([headers, res.body])).to.equal(200);
        expect(res.body).to.include({ version: i + 2, parallelism: i + 1 });
        expect(res.headers.get('etag')).to.equal(`"${i + 2}"`);
      }
    });

    it('a stale version → 412 precondition_failed (If-Match) or 409 job_modified (the field), and nothing changes', async () => {
      const created = (await http.post('/api/v1/jobs', validJob())).body;
      expect((await http.put(`/api/v1/jobs/${created.id}`, { parallelism: 2 })).status).to.equal(200);
      const before = (await http.get(`/api/v1/jobs/${created.id}`)).body;
      for (const [body, headers, status, code] of [
        [{ parallelism: 9 }, { 'if-match': '"1"' }, 412, 'precondition_failed'],
        [{ parallelism: 9, version: 1 }, {}, 409, 'job_modified'],
        [{ parallelism: 9, scheduleCron: '0 * * * * *' }, { 'if-match': '1' }, 412, 'precondition_failed'],
      ] as [Record<string, unknown>, Record<string, string>, number, string][]) {
        const res = await http.put(`/api/v1/jobs/${created.id}`, body, headers);
        expect(res.status, JSON.stringify(res.body)).to.equal(status);
        expect(res.body.error.code).to.equal(code);
        expect(res.body.error.message).to.match(/version 2\b/);
        expect(res.body.error.details).to.deep.equal({ currentVersion: 2 });
      }
      expect((await http.get(`/api/v1/jobs/${created.id}`)).body).to.deep.equal(before);
    });

    it('of many concurrent PUTs based on the same version exactly one wins', async () => {
      const { id } = (await http.post('/api/v1/jobs', validJob())).body;
      const replies = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          http.put(`/api/v1/jobs/${id}`, { parallelism: i + 1 }, { 'if-match': '"1"' }),
        ),
      );
      const won = replies.filter((r) => r.status === 200);
      expect(won).to.have.length(1);
      expect(replies.filter((r) => r.status === 412 && r.body.error.code === 'precondition_failed')).to.have.length(9);
      expect((await http.get(`/api/v1/jobs/${id}`)).body).to.include({
        version: 2,
        parallelism: won[0]?.body.parallelism,
      });
    });

    it('a malformed If-Match, or one the version field contradicts → 400 naming it, nothing changes', async () => {
      const created = (await http.post('/api/v1/jobs', validJob())).body;
      for (const [headers, body, field] of [
        [{ 'if-match': '"abc"' }, { parallelism: 2 }, 'If-Match'],
        [{ 'if-match': '"1", "2"' }, { parallelism: 2 }, 'If-Match'],
        [{ 'if-match': '0' }, { parallelism: 2 }, 'If-Match'],
        [{ 'if-match': '"1' }, { parallelism: 2 }, 'If-Match'],
        [{ 'if-match': '"1"' }, { parallelism: 2, version: 2 }, 'version'],
        [{}, { parallelism: 2, version: 0 }, 'version'],
        [{}, { parallelism: 2, version: '1' }, 'version'],
      ] as [Record<string, string>, Record<string, unknown>, string][]) {
        const res = await http.put(`/api/v1/jobs/${created.id}`, body, headers);
        expect(res.status, JSON.stringify([headers, body])).to.equal(400);
        expect(res.body.error.code).to.equal('validation_failed');
        expect(res.body.error.details.map((d: { field: string }) => d.field)).to.include(field);
      }
      expect((await http.get(`/api/v1/jobs/${created.id}`)).body).to.deep.equal(created);
    });

    it('a version alone is no change (400); POST refuses a version; an unknown job is 404 whatever the version', async () => {
      const created = (await http.post('/api/v1/jobs', validJob())).body;
      const alone = await http.put(`/api/v1/jobs/${created.id}`, { version: 1 });
      expect(alone.status).to.equal(400);
      expect(alone.body.error.message).to.match(/at least one field/);
      const post = await http.post('/api/v1/jobs', validJob({ version: 1 }));
      expect(post.status).to.equal(400);
      expect(post.body.error.details.map((d: { field: string }) => d.field)).to.include('version');
      const unknown = await http.put(`/api/v1/jobs/${randomUUID()}`, { enabled: false }, { 'if-match': '"1"' });
      expect(unknown.status).to.equal(404);
      expect(unknown.body.error.code).to.equal('job_not_found');
    });
  });
});

async function listAll(http: Client): Promise<{ id: string; name: string }[]> {
  const all: { id: string; name: string }[] = [];
  let next: string | null = '/api/v1/jobs?limit=500';
  while (next) {
    const res: Reply = await http.get(next);
    all.push(...res.body);
    next = /<([^>]+)>; rel="next"/.exec(res.headers.get('link') ?? '')?.[1] ?? null;
  }
  return all;
}
