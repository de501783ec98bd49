import { randomUUID } from 'node:crypto';
import type { RunningApi } from '@flink-orchestrator/api';
import { apiRouter, ERROR_STATUS, openApiDocument } from '@flink-orchestrator/http-api';
import { expect } from 'chai';
import { Client } from 'pg';
import { startApi } from '../support/api-process';
import { client, type Reply } from '../support/http';
import { seededRandom, seedFrom } from '../support/seeded';
import { databaseUrl, REDIS_PREFIX, TEST_READ_TOKEN } from '../support/test-env';
import { Draw, FUZZ_ROUTES } from './support/fuzz-routes';

/** Every route of the API's router, as `METHOD /path/:param`. */
function routerRoutes(): string[] {
  const deps = { metrics: { metrics: {}, refresh: async () => {} } } as never;
  const routes = new Set<string>();
  for (const layer of apiRouter(deps).stack)
    for (const method of layer.methods) if (method !== 'HEAD') routes.add(`${method} ${String(layer.path)}`);
  return [...routes].sort();
}

type Parameter = { name: string; in: string };

/** The query parameters the OpenAPI document gives a route (`METHOD /path/:param`); none for one it does not describe. */
function documentedQuery(route: string): string[] {
  const document = openApiDocument() as {
    paths: Record<string, Record<string, { parameters?: ({ $ref: string } | Parameter)[] }>>;
    components: { parameters: Record<string, Parameter> };
  };
  const [method, path] = route.split(' ') as [string, string];
  const operation = document.paths[path.replace(/:(\w+)/g, '{$1}')]?.[method.toLowerCase()];
  return (operation?.parameters ?? [])
    .map((p) => ('$ref' in p ? document.components.parameters[p.$ref.split('/').pop() as string] : p))
    .filter((p): p is Parameter => p?.in === 'query')
    .map((p) => p.name);
}

/** A digest of every table's rows, by table: a refused request must leave each as it was. */
async function snapshot(): Promise<Record<string, string>> {
  const db = new Client({ connectionString: databaseUrl() });
  await db.connect();
  try {
    const tables = await db.query<{ name: string }>(
      "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
    );
    const digests: Record<string, string> = {};
    for (const { name } of tables.rows) {
      const quoted = `"${name.replace(/"/g, '""')}"`;
      const { rows } = await db.query<{ digest: string | null; count: string }>(
        `SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) AS digest, count(*) AS count FROM ${quoted} t`,
      );
      digests[name] = `${rows[0]?.count} rows, ${rows[0]?.digest}`;
    }
    return digests;
  } finally {
    await db.end();
  }
}

/** What a refusal must look like, if it is one; a message saying what is wrong, else null. */
function refusalProblem(res: Reply): string | null {
  if (res.status >= 500) return `a ${res.status}`;
  if (res.status < 400) return null;
  if (!(res.headers.get('content-type') ?? '').startsWith('application/json')) return 'an error that is not JSON';
  const error = (res.body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  const code = error?.code;
  if (typeof code !== 'string' || !Object.hasOwn(ERROR_STATUS, code)) return `an unknown error code ${String(code)}`;
  if (ERROR_STATUS[code as keyof typeof ERROR_STATUS] !== res.status)
    return `${code} answered ${res.status}, not its ${ERROR_STATUS[code as keyof typeof ERROR_STATUS]}`;
  if (typeof error?.message !== 'string' || error.message === '') return 'an error without a message';
  if (/\bat \S+ \(|\.[jt]s:\d+:\d+|node_modules|\n\s+at /.test(JSON.stringify(res.body)))
    return 'a stack trace in the answer';
  return null;
}

describe('fuzz: generated bad requests across every endpoint', function () {
  this.timeout(600_000);
  let api: RunningApi;
  // A hundred per route by default: every route its share, the run well within two minutes.
  const COUNT = Number(process.env.FUZZ_REQUESTS ?? 100 * Object.keys(FUZZ_ROUTES).length);
  const seed = seedFrom('FUZZ_SEED');
  const replay = `replay: FUZZ_SEED=${seed}`;

  before(async () => {
    process.stdout.write(`      fuzz seed ${seed} (${replay})\n`);
    // An API on a queue no worker consumes: accepted starts would stay visible, not run.
    // Under the run's own prefix, so the run's cleanup removes its keys too.
    api = await startApi({ QUEUE_PREFIX: `${REDIS_PREFIX}-fuzz` });
  });
  after(() => api?.close());
  afterEach(function () {
    // A mocha timeout never reaches the test's own message: name the seed here too.
    if (this.currentTest?.state === 'failed') process.stdout.write(`      fuzz failed (${replay})\n`);
  });

  it('fuzzes every route of the API router, and no route the router lacks', () => {
    expect(Object.keys(FUZZ_ROUTES).sort(), 'routes the fuzz suite does not cover (or no longer exist)').to.deep.equal(
      routerRoutes(),
    );
  });

  it(`${COUNT} requests (${replay}): no 5xx, every refusal a JSON error with its code, and nothing changed`, async () => {
    const writer = client(api.url);
    const job = (
      await writer.post('/api/v1/jobs', { name: `fuzz-target-${randomUUID().slice(0, 6)}`, jarURL: 'app.jar' })
    ).body;
    await writer.post(`/api/v1/jobs/${job.id}/schedule`, { cron: '0 0 1 1 *' });
    const actionSchedule = await writer.post(`/api/v1/jobs/${job.id}/schedules`, {
      action: 'stop',
      cron: '0 0 1 1 *',
    });
    expect(actionSchedule.status, JSON.stringify(actionSchedule.body)).to.equal(201);
    const hook = (
      await writer.post('/api/v1/webhooks', { url: 'https://hooks.slack.com/services/T0/B0/x', events: ['*'] })
    ).body;
    const before = await snapshot();
    const draw = new Draw(seededRandom(seed), {
      jobId: job.id,
      webhookId: hook.id,
      actionScheduleId: actionSchedule.body.id,
    });
    // Mostly the write token; sometimes the read token or none, which a change never gets past.
    const callers = [writer, client(api.url, TEST_READ_TOKEN), client(api.url, null)];
    /** Methods the route's path has no route for (PATCH none has): the wrong-method requests. */
    const lacking = (route: string) => {
      const path = route.split(' ')[1];
      const has = Object.keys(FUZZ_ROUTES)
        .filter((r) => r.split(' ')[1] === path)
        .map((r) => r.split(' ')[0]);
      return ['PATCH', 'PUT', 'DELETE', 'POST', 'PROPFIND'].filter((m) => !has.includes(m));
    };
    const routes = Object.entries(FUZZ_ROUTES).map(([route, make]) => [route, make, documentedQuery(route)] as const);
    const statuses = new Map<number, number>();
    const perRoute = new Map<string, number>();
    const accepted: string[] = [];
    const wrong: string[] = [];
    const batch = 50;
    for (let i = 0; i < COUNT; i += batch) {
      const requests = Array.from({ length: Math.min(batch, COUNT - i) }, (_, j) => {
        // Round the routes, so every one gets its share whatever the count; the request itself is drawn.
        const [route, make, query] = routes[(i + j) % routes.length] as (typeof routes)[number];
        const made = make(draw.forRoute(query));
        // Sometimes a method the path does not have: refused as no route, never run as another.
        const request = draw.next() < 0.03 ? { ...made, method: draw.pick(lacking(route)) } : made;
        const roll = draw.next();
        const caller = roll < 0.05 ? callers[1] : roll < 0.08 ? callers[2] : callers[0];
        const headers = { ...request.headers, ...(draw.next() < 0.03 ? { 'content-type': 'text/plain' } : {}) };
        return { route, request, caller: caller ?? writer, headers };
      });
      await Promise.all(
        requests.map(async ({ route, request, caller, headers }) => {
          const { method, path, body } = request;
          const said = `${method} ${path.slice(0, 200)} ${JSON.stringify(body)?.slice(0, 200) ?? ''}`;
          const res = await caller.call(method, path, body, headers).catch((error: unknown) => {
            // A contract violation (an answer the document does not describe) names the seed too.
            throw new Error(`${String(error)} (${replay})`, { cause: error });
          });
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          perRoute.set(route, (perRoute.get(route) ?? 0) + 1);
          if (method !== 'GET' && res.status < 300) accepted.push(`${said} → ${res.status}`);
          const problem = refusalProblem(res);
          if (problem) wrong.push(`${said} → ${problem}: ${JSON.stringify(res.body)?.slice(0, 300)}`);
        }),
      );
    }
    expect(wrong, `answers that are no proper refusal (${replay})`).to.deep.equal([]);
    expect(accepted, `a generated bad request was accepted (${replay})`).to.deep.equal([]);
    expect(await snapshot(), `stored data changed (${replay})`).to.deep.equal(before);
    expect([...perRoute.keys()].sort(), 'routes no request reached').to.deep.equal(Object.keys(FUZZ_ROUTES).sort());
    const summary = [...statuses]
      .sort()
      .map(([s, n]) => `${s}×${n}`)
      .join(' ');
    process.stdout.write(
      `      fuzz seed ${seed}: ${COUNT} requests over ${routes.length} routes, statuses ${summary}\n`,
    );
  });
});
