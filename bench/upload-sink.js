// Stands in for Flink's POST /jars/upload in the JAR streaming benchmark: reads and
// discards the multipart body, answers as Flink does. Prints its URL.
const http = require('node:http');
const { randomUUID } = require('node:crypto');

const server = http.createServer((req, res) => {
  let bytes = 0;
  req.on('data', (chunk) => (bytes += chunk.length));
  req.on('end', () => {
    const body = JSON.stringify({
      filename: `/tmp/flink-web-upload/${randomUUID()}_big.jar`,
      status: 'success',
      bytes,
    });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`SINK_URL=http://127.0.0.1:${server.address().port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
