import type { RunningApi } from '@flink-orchestrator/api';
import { openApiDocument } from '@flink-orchestrator/http-api';
import { expect } from 'chai';
import { startApi } from '../support/api-process';
import { client } from '../support/http';
import { TEST_READ_TOKEN } from '../support/test-env';

describe('authentication, headers, metrics and docs', () => {
  let api: RunningApi;
  before(async () => {
    api = await startApi({ METRICS_TOKEN: 'metrics-token-0123456789', CORS_ORIGINS: 'https://console.example.com' });
  });
  after(() => api.close());

  it('every /api route needs a bearer token: none or a wrong one → 401 unauthorized', async () => {
    for (const token of [null, 'wrong-token-0123456789abcdef', '']) {
      const http = client(api.url, token);
      for (const [method, path] of [
        ['GET', '/api/v1/jobs'],
        ['POST', '/api/v1/jobs'],
        ['GET', '/api/v1/schedules'],
        ['DELETE', '/api/v1/jobs/00000000-0000-0000-0000-000000000000'],
      ]) {
        const res = await http.call(
          method as string,
          path as string,
          method === 'POST' ? { name: 'x', jarURL: 'x.jar' } : undefined,
        );
        expect(res.status, `${method} ${path}`).to.equal(401);
        expect(res.body.error.code).to.equal('unauthorized');
        expect(res.headers.get('www-authenticate')).to.match(/^Bearer/);
      }
    }
  });

  it('a read-only token reads but may not change anything (403)', async () => {
    const reader = client(api.url, TEST_READ_TOKEN);
    expect((await reader.get('/api/v1/jobs')).status).to.equal(200);
    const res = await reader.post('/api/v1/jobs', { name: 'from-reader', jarURL: 'x.jar' });
    expect(res.status).to.equal(403);
    expect(res.body.error.code).to.equal('forbidden');
    expect(
      (await client(api.url).get('/api/v1/jobs?limit=500')).body.map((j: { name: string }) => j.name),
    ).not.to.include('from-reader');
  });

  it('health stays open; /metrics needs METRICS_TOKEN when it is set', async () => {
    const anonymous = client(api.url, null);
    expect((await anonymous.get('/health')).status).to.equal(200);
    expect((await anonymous.get('/health/live')).status).to.equal(200);
    expect((await anonymous.get('/metrics')).status).to.equal(401);
    const scraper = client(api.url, 'metrics-token-0123456789');
    const metrics = await scraper.get('/metrics');
    expect(metrics.status).to.equal(200);
    expect(metrics.body).to.match(/^# HELP/m);
    expect(metrics.body).to.match(/http_requests_total\{method="GET",route="\/api\/v1\/jobs",status="200"/);
    expect(metrics.body).to.match(/flink_executions\{status="RUNNING"/);
    expect(metrics.body).to.match(/queue_jobs\{queue="executions",state="waiting"/);
  });

  it('sends security headers, and CORS only to configured origins', async () => {
    const http = client(api.url);
    const res = await http.get('/api/v1/jobs', { origin: 'https://console.example.com' });
    expect(res.headers.get('x-content-type-options')).to.equal('nosniff');
    expect(res.headers.get('content-security-policy')).to.be.a('string');
    expect(res.headers.get('access-control-allow-origin')).to.equal('https://console.example.com');
    const other = await http.get('/api/v1/jobs', { origin: 'https://evil.example.com' });
    expect(other.headers.get('access-control-allow-origin')).to.equal(null);
  });

  it('serves the OpenAPI 3.1 description and the docs page, without a token', async () => {
    const anonymous = client(api.url, null);
    const doc = await anonymous.get('/openapi.json');
    expect(doc.status).to.equal(200);
    expect(doc.body.openapi).to.equal('3.1.0');
    // The one the contract check of these tests reads.
    expect(doc.body).to.deep.equal(JSON.parse(JSON.stringify(openApiDocument())));
    const body = doc.body.paths['/api/v1/jobs'].post.requestBody.content['application/json'].schema;
    expect(body).to.deep.equal({ $ref: '#/components/schemas/JobCreate' });
    expect(doc.body.components.schemas.JobCreate.required).to.include.members(['name', 'jarURL']);
    const page = await anonymous.get('/docs');
    expect(page.status).to.equal(200);
    expect(page.body).to.contain('swagger-ui-bundle.js');
    const bundle = await fetch(`${api.url}/docs/swagger-ui-bundle.js`);
    expect(bundle.status).to.equal(200);
    expect((await bundle.text()).length).to.be.greaterThan(100_000);
  });

  it('refuses to start with no token configured unless AUTH_DISABLED=true', async () => {
    try {
      await startApi({ API_TOKENS: '', API_READ_TOKENS: '' });
      expect.fail('started without tokens');
    } catch (error) {
      expect((error as Error).message).to.match(/No API token configured: set API_TOKENS/);
    }
    const open = await startApi({ API_TOKENS: '', API_READ_TOKENS: '', AUTH_DISABLED: 'true' });
    try {
      expect((await client(open.url, null).get('/api/v1/jobs')).status).to.equal(200);
    } finally {
      await open.close();
    }
  });
});
