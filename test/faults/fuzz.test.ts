import { createHash, randomUUID } from 'node:crypto';
import type { RunningApi } from '@flink-orchestrator/api';
import { expect } from 'chai';
import { Client } from 'pg';
import { startApi } from '../support/api-process';
import { client, type Client as Http } from '../support/http';
import { seededRandom, seedFrom } from '../support/seeded';
import { databaseUrl, REDIS_PREFIX } from '../support/test-env';

const NASTY: unknown[] = [
  '',
  ' ',
  'a'.repeat(10_000),
  '💥🔥'.repeat(100),
  "'; DROP TABLE jobs; --",
  '" OR 1=1 --',
  '../../../../etc/passwd',
  '%2e%2e%2f%2e%2e%2f',
  '\u0000\u0001\u001f',
  '<script>alert(1)</script>',
  'file:///etc/passwd',
  'http://169.254.169.254/latest/meta-data.jar',
  'javascript:alert(1)',
  '* * * * * * * *',
  '61 * * * *',
  '@reboot',
  'Mars/Olympus',
  -1,
  0,
  1e308,
  -0,
  Number.MAX_SAFE_INTEGER + 2,
  1.5,
  true,
  false,
  null,
  [],
  [1, 2, 3],
  {},
  { $ne: null },
  { nested: { deeper: { deepest: [1, { a: 'b' }] } } },
  { __proto__: { admin: true } },
];

const FIELDS = [
  'name',
  'jarURL',
  'entryClass',
  'config',
  'parallelism',
  'enabled',
  'scheduleCron',
  'cron',
  'timezone',
  'overlap',
  'startAt',
  'endAt',
  'savepoint',
  'drain',
  'restoreFrom',
  'savepointPath',
  'allowNonRestoredState',
  'admission',
  'url',
  'events',
  'format',
  'secret',
  'jobId',
  'constructor',
  'prototype',
];

/** Values no field of any endpoint accepts. */
const NEVER_VALID: unknown[] = [
  [1, 2, 3],
  { nested: { a: 1 } },
  { $ne: null },
  1e308,
  '\u0000'.repeat(3) + 'x'.repeat(5000),
];

/** Bodies wrong in at least one way (one field always holds a value nothing accepts), plus random noise. */
function badBody(next: () => number): unknown {
  const pick = <T>(xs: T[]) => xs[Math.floor(next() * xs.length)] as T;
  const roll = next();
  // Not an object, sent as JSON text: a raw '' would be no body at all, which a start rightly accepts.
  if (roll < 0.08)
    return JSON.stringify(pick(NASTY.filter((v) => v === null || typeof v !== 'object' || Array.isArray(v))));
  const body: Record<string, unknown> = {};
  const n = Math.floor(next() * 4);
  for (let i = 0; i < n; i++) body[pick(FIELDS)] = pick(NASTY);
  body[pick(FIELDS)] = pick(NEVER_VALID);
  if (roll > 0.9) body[`unknown_${Math.floor(next() * 1000)}`] = 'x';
  return body;
}

async function snapshot(): Promise<string> {
  const db = new Client({ connectionString: databaseUrl() });
  await db.connect();
  try {
    const jobs = await db.query('SELECT * FROM jobs ORDER BY id');
    const executions = await db.query('SELECT * FROM job_executions ORDER BY id');
    const webhooks = await db.query('SELECT * FROM webhooks ORDER BY id');
    const events = await db.query('SELECT id, type, payload FROM events ORDER BY id');
    const audit = await db.query('SELECT * FROM audit_log ORDER BY id');
    return createHash('sha256')
      .update(JSON.stringify([jobs.rows, executions.rows, webhooks.rows, events.rows, audit.rows]))
      .digest('hex');
  } finally {
    await db.end();
  }
}

describe('fuzz: generated bad requests across every endpoint', function () {
  this.timeout(600_000);
  let api: RunningApi;
  let http: Http;
  const COUNT = Number(process.env.FUZZ_REQUESTS ?? 6000);
  const seed = seedFrom('FUZZ_SEED');

  before(async () => {
    // An API on a queue no worker consumes: accepted starts would stay visible, not run.
    // Under the run's own prefix, so the run's cleanup removes its keys too.
    api = await startApi({ QUEUE_PREFIX: `${REDIS_PREFIX}-fuzz` });
    http = client(api.url);
  });
  after(() => api.close());

  it(`${COUNT} requests (seed from FUZZ_SEED): no 5xx, and no rejected request changes stored data`, async () => {
    const job = (
      await http.post('/api/v1/jobs', { name: `fuzz-target-${randomUUID().slice(0, 6)}`, jarURL: 'app.jar' })
    ).body;
    await http.post(`/api/v1/jobs/${job.id}/schedule`, { cron: '0 0 1 1 *' });
    const hook = (
      await http.post('/api/v1/webhooks', { url: 'https://hooks.slack.com/services/T0/B0/x', events: ['*'] })
    ).body;
    const before = await snapshot();
    const next = seededRandom(seed);
    const hookIds = [hook.id, randomUUID(), 'not-a-uuid', "1' OR '1'='1", '%00', '💥'];
    const ids = [job.id, randomUUID(), 'not-a-uuid', "1' OR '1'='1", '%00', '..%2F..%2F', '💥', 'a'.repeat(300)];
    const pick = <T>(xs: T[]) => xs[Math.floor(next() * xs.length)] as T;
    // Cancels that never reach Flink: a bad JobID anywhere, a good one only on a cluster that does not exist.
    const clusterNames = ['default', 'no-such-cluster', 'Bad_Name', '💥', '..%2F'];
    const badFlinkIds = ['0'.repeat(31), 'g'.repeat(32), randomUUID(), "1' OR '1'='1", '%00', '💥', 'a'.repeat(300)];
    const cancelPath = () =>
      next() < 0.2
        ? `/api/v1/clusters/no-such-cluster/jobs/${'ab'.repeat(16)}/cancel`
        : `/api/v1/clusters/${encodeURIComponent(pick(clusterNames))}/jobs/${encodeURIComponent(pick(badFlinkIds))}/cancel`;
    const statuses = new Map<number, number>();
    const accepted: string[] = [];
    const batch = 50;
    for (let i = 0; i < COUNT; i += batch) {
      await Promise.all(
        Array.from({ length: Math.min(batch, COUNT - i) }, async () => {
          const id = encodeURIComponent(pick(ids));
          const [method, path] = pick<[string, string]>([
            ['POST', '/api/v1/jobs'],
            ['PUT', `/api/v1/jobs/${id}`],
            ['POST', `/api/v1/jobs/${id}/start`],
            ['POST', `/api/v1/jobs/${id}/stop`],
            ['POST', `/api/v1/jobs/${id}/schedule`],
            // Never the real job: a check would reach Flink (and upload to it).
            ['POST', `/api/v1/jobs/${encodeURIComponent(pick(ids.slice(1)))}/validate`],
            ['GET', `/api/v1/jobs?limit=${encodeURIComponent(String(pick(NASTY)))}`],
            ['GET', `/api/v1/jobs?cursor=${encodeURIComponent(String(pick(NASTY)))}`],
            ['GET', `/api/v1/jobs/${id}/executions?status=${encodeURIComponent(String(pick(NASTY)))}`],
            ['GET', `/api/v1/executions/${id}`],
            ['DELETE', `/api/v1/jobs/${encodeURIComponent(pick(ids.slice(1)))}`],
            ['POST', '/api/v1/webhooks'],
            ['PUT', `/api/v1/webhooks/${encodeURIComponent(pick(hookIds))}`],
            ['DELETE', `/api/v1/webhooks/${encodeURIComponent(pick(hookIds.slice(1)))}`],
            [
              'GET',
              `/api/v1/webhooks/${encodeURIComponent(pick(hookIds))}/deliveries?limit=${encodeURIComponent(String(pick(NASTY)))}`,
            ],
            ['GET', `/api/v1/events?after=${encodeURIComponent(String(pick(NASTY)))}`],
            // One nasty value per URL: two of 10,000 characters would pass Node's 16 KiB header limit (431).
            ['GET', `/api/v1/audit?${pick(['since', 'actor', 'jobId'])}=${encodeURIComponent(String(pick(NASTY)))}`],
            [
              'GET',
              `/api/v1/events?type=${encodeURIComponent(String(pick(NASTY)))}&jobId=${encodeURIComponent(pick(ids))}`,
            ],
            ['POST', cancelPath()],
          ]);
          const body =
            method === 'GET' || method === 'DELETE' ? undefined : next() < 0.05 ? '{"broken": ' : badBody(next);
          const headers: Record<string, string> = next() < 0.03 ? { 'content-type': 'text/plain' } : {};
          const res = await http.call(method, path, body, headers).catch((error: unknown) => {
            // A contract violation (an answer the document does not describe) names the seed too.
            throw new Error(`${String(error)} (replay: FUZZ_SEED=${seed})`, { cause: error });
          });
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (method !== 'GET' && res.status < 300)
            accepted.push(`${method} ${path} ${JSON.stringify(body)} → ${res.status}`);
          expect(
            res.status,
            `${method} ${path} ${JSON.stringify(body)?.slice(0, 200)} (FUZZ_SEED=${seed})`,
          ).to.be.below(500);
          if (res.status >= 400) expect(res.body?.error?.code, `${method} ${path}`).to.be.a('string');
        }),
      );
    }
    expect(accepted, `a generated bad request was accepted (replay: FUZZ_SEED=${seed})`).to.deep.equal([]);
    expect(await snapshot(), `stored data changed (replay: FUZZ_SEED=${seed})`).to.equal(before);
    const summary = [...statuses]
      .sort()
      .map(([s, n]) => `${s}×${n}`)
      .join(' ');
    process.stdout.write(`      fuzz seed ${seed}: ${COUNT} requests, statuses ${summary}\n`);
  });
});
