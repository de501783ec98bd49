import type { JobRepository } from '@flink-orchestrator/domain';
import { expect } from 'chai';
import { startApi } from '../support/api-process';
import { client } from '../support/http';
import { appOver } from '../support/in-process-app';

describe('health and dependency failures', () => {
  it('GET /health → 200 with both checks ok; /health/live → 200', async () => {
    const api = await startApi({ FLINK_JOBMANAGER_URL: 'http://127.0.0.1:1' });
    try {
      const http = client(api.url);
      const res = await http.get('/health');
      expect(res.status).to.equal(200);
      expect(res.body).to.deep.equal({ status: 'ok', checks: { postgres: 'ok', redis: 'ok', flink: 'unreachable' } });
      expect((await http.get('/health/live')).status).to.equal(200);
    } finally {
      await api.close();
    }
  });

  it('Redis unreachable → /health 503 naming redis; PostgreSQL unreachable → 503 naming postgres and 503 dependency_unavailable', async () => {
    const api = await startApi({
      REDIS_URL: 'redis://127.0.0.1:1',
      FLINK_JOBMANAGER_URL: 'http://127.0.0.1:1',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none',
    });
    try {
      const http = client(api.url);
      const health = await http.get('/health');
      expect(health.status).to.equal(503);
      expect(health.body.checks).to.deep.equal({ postgres: 'unavailable', redis: 'unavailable', flink: 'unreachable' });
      expect((await http.get('/health/live')).status).to.equal(200);
      const started = Date.now();
      const res = await http.get('/api/v1/jobs');
      expect(res.status).to.equal(503);
      expect(res.body.error.code).to.equal('dependency_unavailable');
      expect(res.body.error.message).to.match(/postgres/);
      expect(res.headers.get('retry-after')).to.equal('5');
      expect(Date.now() - started).to.be.below(10_000);
    } finally {
      await api.close();
    }
  });

  it('an unexpected error → 500 internal_error with the request id, never a stack trace', async () => {
    const broken = new Proxy({} as JobRepository, {
      get: () => () => Promise.reject(new Error('secret internals at /srv/app/db.ts:42')),
    });
    const { http, close } = await appOver(broken);
    try {
      const res = await http.get('/api/v1/jobs');
      expect(res.status).to.equal(500);
      expect(res.body.error.code).to.equal('internal_error');
      expect(res.body.error.requestId).to.equal(res.headers.get('x-request-id'));
      expect(JSON.stringify(res.body)).not.to.match(/secret|\/srv|at /);
    } finally {
      await close();
    }
  });

  it('a method the path lacks → 405 method_not_allowed as JSON, with Allow; a method no route has → the same; no path → 404', async () => {
    const api = await startApi({ FLINK_JOBMANAGER_URL: 'http://127.0.0.1:1' });
    try {
      const http = client(api.url);
      for (const method of ['PATCH', 'PUT', 'PROPFIND']) {
        const res = await http.call(method, '/api/v1/audit');
        expect(res.status, `${method}: ${JSON.stringify(res.body)}`).to.equal(405);
        expect(res.headers.get('content-type')).to.match(/^application\/json/);
        expect(res.body.error.code).to.equal('method_not_allowed');
        expect(res.body.error.message).to.contain(method).and.to.contain('GET');
        expect(res.headers.get('allow')).to.contain('GET');
      }
      const nowhere = await http.call('PROPFIND', '/api/v1/no-such-thing');
      expect(nowhere.status).to.equal(404);
      expect(nowhere.body.error.code).to.equal('route_not_found');
    } finally {
      await api.close();
    }
  });
});
