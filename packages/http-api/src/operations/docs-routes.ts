import { createReadStream } from 'node:fs';
import path from 'node:path';
import type Router from '@koa/router';
// The package's index loads the whole UI bundle; only its path helper is needed here.
import getAbsoluteFSPath from 'swagger-ui-dist/absolute-path.js';
import { openApiDocument } from '../openapi';

const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css',
  'swagger-ui-bundle.js': 'application/javascript',
  'swagger-ui-standalone-preset.js': 'application/javascript',
  'favicon-32x32.png': 'image/png',
};

// Served as a file, not inline, so the page works under helmet's Content-Security-Policy.
const INIT = `window.onload = function () {
  window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: 'StandaloneLayout' });
};`;

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Flink orchestrator API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"><link rel="icon" href="/docs/favicon-32x32.png"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script><script src="/docs/swagger-ui-standalone-preset.js"></script><script src="/docs/init.js"></script>
</body></html>`;

/** /openapi.json and an interactive page at /docs, from the swagger-ui-dist package (no CDN). */
export function docsRoutes(router: Router): void {
  const document = openApiDocument();
  const assetsDir = getAbsoluteFSPath();
  router.get('/openapi.json', (ctx) => {
    ctx.body = document;
  });
  router.get('/docs', (ctx) => {
    ctx.type = 'text/html';
    ctx.body = PAGE;
  });
  router.get('/docs/init.js', (ctx) => {
    ctx.type = 'application/javascript';
    ctx.body = INIT;
  });
  router.get('/docs/:asset', (ctx, next) => {
    const type = ASSETS[ctx.params.asset as string];
    if (!type) return next();
    ctx.type = type;
    ctx.set('Cache-Control', 'public, max-age=86400');
    ctx.body = createReadStream(path.join(assetsDir, ctx.params.asset as string));
  });
}
