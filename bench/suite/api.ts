import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { load, ratioResult, startProcess, type Benchmark, type BenchContext, type LoadResult } from '../lib';
import { serviceEnv, startApi, TOKEN } from './services';

const OUR_PORT = 18501;
const BARE_PORT = 18502;

async function seedJobs(ctx: BenchContext, count: number): Promise<string[]> {
  const db = new Client({ connectionString: ctx.databaseUrl });
  await db.connect();
  try {
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO jobs (name, jar_url, entry_class, config)
       SELECT 'bench-read-' || g || '-' || $2, 'data-processor.jar', 'com.example.Main', '{"a": 1}'::jsonb FROM generate_series(1, $1) g
       RETURNING id`,
      [count, randomUUID().slice(0, 8)],
    );
    return rows.map((r) => r.id);
  } finally {
    await db.end();
  }
}

function servers(ctx: BenchContext) {
  const env = serviceEnv(ctx, 'info');
  return {
    ours: () => startApi(env, OUR_PORT),
    bare: () =>
      startProcess('bare-koa', ['bench/baselines/bare-koa.js'], { ...env, PORT: String(BARE_PORT) }, 'bare-koa ready'),
  };
}

/** Runs baseline and ours alternately (A B B A) and averages, so drift on a shared machine cancels out. */
async function sideBySide(
  run: (which: 'ours' | 'bare') => Promise<LoadResult>,
): Promise<{ ours: LoadResult; bare: LoadResult }> {
  const order: ('ours' | 'bare')[] = ['bare', 'ours', 'ours', 'bare'];
  const results: Record<'ours' | 'bare', LoadResult[]> = { ours: [], bare: [] };
  for (const which of order) results[which].push(await run(which));
  const mean = (rs: LoadResult[]): LoadResult => ({
    rps: rs.reduce((s, r) => s + r.rps, 0) / rs.length,
    p50: rs.reduce((s, r) => s + r.p50, 0) / rs.length,
    p99: Math.max(...rs.map((r) => r.p99)),
    errors: rs.reduce((s, r) => s + r.errors, 0),
    non2xx: rs.reduce((s, r) => s + r.non2xx, 0),
  });
  return { ours: mean(results.ours), bare: mean(results.bare) };
}

export const apiBenchmarks: Benchmark = async (ctx) => {
  const ids = await seedJobs(ctx, 1000);
  const { ours, bare } = servers(ctx);
  const duration = ctx.quick ? 2 : 10;
  const ourServer = await ours();
  const bareServer = await bare();
  try {
    ctx.log('1: API read, 64 connections');
    const read = await sideBySide((which) =>
      load({
        url: which === 'ours' ? `http://127.0.0.1:${OUR_PORT}` : `http://127.0.0.1:${BARE_PORT}`,
        connections: 64,
        duration,
        headers: { authorization: `Bearer ${TOKEN}` },
        requests: [
          {
            setupRequest: (req) => {
              const id = ids[Math.floor(Math.random() * ids.length)];
              return { ...req, path: which === 'ours' ? `/api/v1/jobs/${id}` : `/jobs/${id}` };
            },
          },
        ],
      }),
    );
    ctx.log('2: API write, unique names');
    let n = 0;
    const run = randomUUID().slice(0, 6);
    const write = await sideBySide((which) =>
      load({
        url: which === 'ours' ? `http://127.0.0.1:${OUR_PORT}` : `http://127.0.0.1:${BARE_PORT}`,
        connections: 32,
        duration,
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        requests: [
          {
            setupRequest: (req) => ({
              ...req,
              path: which === 'ours' ? '/api/v1/jobs' : '/jobs',
              body: JSON.stringify({
                name: `bench-w-${run}-${which}-${n++}`,
                jarURL: 'data-processor.jar',
                config: { a: 1 },
              }),
            }),
          },
        ],
      }),
    );
    for (const r of [read.ours, read.bare, write.ours, write.bare]) {
      if (r.errors || r.non2xx) throw new Error(`load run had ${r.errors} errors and ${r.non2xx} non-2xx answers`);
    }
    const readResult = ratioResult(
      1,
      'API read GET /jobs/:id (64 conns)',
      read.ours.rps,
      read.bare.rps,
      'req/s',
      { min: 0.75, text: '≥ 0.75× bare Koa+pg; p99 ≤ 1.5× bare p99' },
      {
        p50_ms: read.ours.p50,
        p99_ms: read.ours.p99,
        baseline_p99_ms: read.bare.p99,
      },
    );
    return [
      { ...readResult, met: readResult.met === true && read.ours.p99 <= 1.5 * read.bare.p99 },
      ratioResult(
        2,
        'API write POST /jobs (32 conns)',
        write.ours.rps,
        write.bare.rps,
        'req/s',
        { min: 0.5, text: '≥ 0.5× bare Koa+pg insert' },
        {
          p50_ms: write.ours.p50,
          p99_ms: write.ours.p99,
        },
      ),
    ].map((r) => (r.id === 1 ? { ...r, met: (r.met ?? false) && read.ours.p99 <= 25 } : r));
  } finally {
    await ourServer.stop();
    await bareServer.stop();
  }
};
