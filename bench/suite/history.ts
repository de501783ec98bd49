import { load, ratioResult, sql, type Benchmark, type BenchContext, type LoadResult } from '../lib';
import { serviceEnv, startApi, TOKEN } from './services';

const PORT = 18503;

/** Adds `count` finished executions to the job, older than any it has. */
async function addExecutions(ctx: BenchContext, jobId: string, count: number, offset: number): Promise<void> {
  const batch = 200_000;
  for (let done = 0; done < count; done += batch) {
    const n = Math.min(batch, count - done);
    await sql(
      ctx,
      `INSERT INTO job_executions (job_id, trigger, status, created_at, finished_at, updated_at)
       SELECT $1, 'manual', 'FINISHED', t, t + interval '1 minute', t
       FROM (SELECT date_trunc('milliseconds', now()) - ((g + $3) * interval '1 second') AS t FROM generate_series(1, $2) g) s`,
      [jobId, n, offset + done],
    );
  }
  await sql(ctx, 'ANALYZE job_executions');
}

/** The cursor of the page that starts at `position` (newest first), as the API would issue it. */
async function cursorAt(ctx: BenchContext, jobId: string, position: number): Promise<string> {
  const [row] = await sql<{ id: string; created_at: Date }>(
    ctx,
    'SELECT id, created_at FROM job_executions WHERE job_id = $1 ORDER BY created_at DESC, id DESC OFFSET $2 LIMIT 1',
    [jobId, position],
  );
  if (!row) throw new Error('no row at position');
  return Buffer.from(JSON.stringify([row.created_at.toISOString(), row.id])).toString('base64url');
}

/** Throughput ratio small/large: > 1 means the large table is slower. */
function slowdown(id: number, name: string, small: LoadResult, large: LoadResult) {
  return ratioResult(
    id,
    name,
    small.rps / large.rps,
    1,
    'slowdown×',
    { max: 1.5, text: 'large/small cost ≤ 1.5' },
    { rps_small: Math.round(small.rps), rps_large: Math.round(large.rps), p99_ms_large: large.p99 },
  );
}

export const historyBenchmark: Benchmark = async (ctx) => {
  const [job] = await sql<{ id: string }>(
    ctx,
    "INSERT INTO jobs (name, jar_url) VALUES ('bench-history', 'x.jar') RETURNING id",
  );
  const jobId = (job as { id: string }).id;
  const small = ctx.quick ? 2_000 : 10_000;
  const large = ctx.quick ? 100_000 : 1_000_000;
  const duration = ctx.quick ? 1 : 4;
  const api = await startApi(serviceEnv(ctx, 'info'), PORT);
  const measure = async (cursor: string | null) => {
    const r = await load({
      url: `http://127.0.0.1:${PORT}/api/v1/jobs/${jobId}/executions?limit=50${cursor ? `&cursor=${cursor}` : ''}`,
      connections: 8,
      duration,
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    if (r.errors || r.non2xx) throw new Error('history load had errors');
    return r;
  };
  try {
    ctx.log(`6: history with ${small} executions`);
    await addExecutions(ctx, jobId, small, 0);
    const firstSmall = await measure(null);
    const deepSmall = await measure(await cursorAt(ctx, jobId, Math.floor(small / 2)));
    ctx.log(`6: history with ${large} executions`);
    await addExecutions(ctx, jobId, large - small, small);
    const firstLarge = await measure(null);
    const deepLarge = await measure(await cursorAt(ctx, jobId, Math.floor(large / 2)));
    const label = `${large / 1000}k vs ${small / 1000}k`;
    return [
      slowdown(6.1, `History first page, ${label} rows`, firstSmall, firstLarge),
      slowdown(6.2, `History deep page (middle), ${label} rows`, deepSmall, deepLarge),
    ];
  } finally {
    await api.stop();
  }
};
