import http, { type Server } from 'node:http';
import type { Logger, Metrics } from '@flink-orchestrator/observability';

/** A worker has no HTTP API; it serves /metrics (and /health/live) on METRICS_PORT. Port 0 picks a free one. */
export async function serveMetrics(metrics: Metrics, port: number, log: Logger): Promise<Server> {
  const server = http.createServer((req, res) => {
    if (req.url === '/metrics') {
      metrics.registry
        .metrics()
        .then((body) => {
          res.writeHead(200, { 'content-type': metrics.registry.contentType });
          res.end(body);
        })
        .catch(() => {
          res.writeHead(500);
          res.end();
        });
      return;
    }
    res.writeHead(req.url === '/health/live' ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(req.url === '/health/live' ? { status: 'ok' } : { error: { code: 'route_not_found' } }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, resolve);
  });
  const address = server.address();
  log.info({ port: typeof address === 'object' && address ? address.port : port }, 'worker metrics listening');
  return server;
}
