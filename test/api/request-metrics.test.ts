import type { RunningApi } from '@flink-orchestrator/api';
import { DependencyUnavailable, type JobRepository } from '@flink-orchestrator/domain';
import { Metrics } from '@flink-orchestrator/observability';
import { expect } from 'chai';
import { startApi } from '../support/api-process';
import { client } from '../support/http';
import { appOver } from '../support/in-process-app';
import { TEST_READ_TOKEN } from '../support/test-env';

/** The `http_requests_total` series as "METHOD route status" → count. */
function countsIn(exposition: string): Map<string, number> {
  const counts = new Map<string, number>();
  const line = /^http_requests_total\{method="([^"]+)",route="([^"]+)",status="(\d+)"[^}]*\} (\d+)/gm;
  for (const m of exposition.matchAll(line)) counts.set(`${m[1]} ${m[2]} ${m[3]}`, Number(m[4]));
  return counts;
}

describe('request metrics count every answer under the status it was given', () => {
  let api: RunningApi;
  before(async () => {
    api = await startApi();
  });
  after(() => api.close());

  it('400, 401, 403, 404, 409, 413 and 415 each under their own label', async () => {
    const http = client(api.url);
    const created = await http.post('/api/v1/jobs', { name: `metrics-${Date.now()}`, jarURL: 'app.jar' });
    expect(created.status).to.equal(201);
    const replies = [
      await http.post('/api/v1/jobs', { name: '' }),
      await client(api.url, null).get('/api/v1/jobs'),
      await client(api.url, TEST_READ_TOKEN).post('/api/v1/jobs', { name: 'x', jarURL: 'x.jar' }),
      await http.get('/api/v1/jobs/00000000-0000-4000-8000-000000000000'),
      await http.post('/api/v1/jobs', { name: created.body.name, jarURL: 'app.jar' }),
      await http.post('/api/v1/jobs', { name: 'big', jarURL: 'x.jar', pad: 'x'.repeat(300_000) }),
      await http.post('/api/v1/jobs', 'name=x', { 'content-type': 'text/plain' }),
    ];
    expect(replies.map((r) => r.status)).to.deep.equal([400, 401, 403, 404, 409, 413, 415]);

    const counts = countsIn((await http.get('/metrics')).body as string);
    expect(counts.get('POST /api/v1/jobs 400')).to.equal(1);
    expect(counts.get('GET unmatched 401')).to.equal(1);
    expect(counts.get('POST unmatched 403')).to.equal(1);
    expect(counts.get('GET /api/v1/jobs/:id 404')).to.equal(1);
    expect(counts.get('POST /api/v1/jobs 409')).to.equal(1);
    expect(counts.get('POST unmatched 413')).to.equal(1);
    expect(counts.get('POST unmatched 415')).to.equal(1);
    // The bug this guards against: refused requests counted as Koa's default 404.
    expect(counts.get('POST /api/v1/jobs 404')).to.equal(undefined);
  });

  it('500 and 503 each under their own label', async () => {
    const failing = new Proxy({} as JobRepository, {
      get: (_, method) => () =>
        Promise.reject(method === 'get' ? new DependencyUnavailable('postgres') : new Error('unexpected')),
    });
    const metrics = new Metrics('api-test');
    const { http, close } = await appOver(failing, metrics);
    try {
      expect((await http.get('/api/v1/jobs')).status).to.equal(500);
      expect((await http.get('/api/v1/jobs/00000000-0000-4000-8000-000000000000')).status).to.equal(503);
      const counts = countsIn(await metrics.registry.metrics());
      expect(counts.get('GET /api/v1/jobs 500')).to.equal(1);
      expect(counts.get('GET /api/v1/jobs/:id 503')).to.equal(1);
    } finally {
      await close();
    }
  });
});
