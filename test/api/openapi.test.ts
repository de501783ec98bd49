import { apiRouter, OPERATIONS } from '@flink-orchestrator/http-api';
import { expect } from 'chai';

describe('OpenAPI description stays in step with the routes', () => {
  it('describes every route, and every description has a route', () => {
    const deps = { metrics: { metrics: {}, refresh: async () => {} } } as never;
    const routes = new Set<string>();
    for (const layer of apiRouter(deps).stack) {
      for (const method of layer.methods) {
        if (method === 'HEAD') continue;
        const path = String(layer.path).replace(/:(\w+)/g, '{$1}');
        if (path.startsWith('/docs') || path === '/openapi.json') continue;
        routes.add(`${method.toLowerCase()} ${path}`);
      }
    }
    const described = new Set(OPERATIONS.map((op) => `${op.method} ${op.path}`));
    expect([...routes].sort()).to.deep.equal([...described].sort());
  });
});
