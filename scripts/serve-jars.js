// Serves the JAR files of one directory over HTTP, as the data-processor service would:
// GET /<file>.jar (and /jars/<file>.jar), with an ETag. Usage: node scripts/serve-jars.js <dir> [port]
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');

const dir = path.resolve(process.argv[2] ?? '.');
const port = Number(process.argv[3] ?? process.env.PORT ?? 8090);

const server = http.createServer((req, res) => {
  const name = decodeURIComponent((req.url ?? '/').split('?')[0]).replace(/^\/(jars\/)?/, '');
  // Plain file names only: no traversal out of the directory.
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*\.jar$/.test(name) || req.method !== 'GET') {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    return;
  }
  const file = path.join(dir, name);
  fs.stat(file, (error, stat) => {
    if (error || !stat.isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`no JAR named ${name}\n`);
      return;
    }
    // Size and modification time, as nginx does: lets the orchestrator skip unchanged JARs.
    const etag = `"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, { etag }).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/java-archive', 'content-length': stat.size, etag });
    fs.createReadStream(file).pipe(res);
  });
});

server.listen(port, '0.0.0.0', () => {
  const address = server.address();
  process.stdout.write(`DATA_PROCESSOR_URL=http://127.0.0.1:${address.port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
process.on('SIGINT', () => server.close(() => process.exit(0)));
