// One JAR through the worker's path: streamed download to a spool file, then a streamed
// multipart upload. Prints {seconds, rssBeforeMiB, rssPeakMiB} as JSON.
import { FlinkRestClient } from '@flink-orchestrator/flink-rest';
import { HttpJarSource } from '@flink-orchestrator/jar-fetcher';

async function main(): Promise<void> {
  const [url, sink] = process.argv.slice(2) as [string, string];
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 20);
  const started = process.hrtime.bigint();
  const source = new HttpJarSource({ maxBytes: 4 * 1024 ** 3, timeoutMs: 600_000 });
  const jar = await source.fetch(url);
  await new FlinkRestClient({ baseUrl: sink }).uploadJar(jar);
  await jar.dispose();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  clearInterval(sampler);
  rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  process.stdout.write(
    `${JSON.stringify({ seconds, rssBeforeMiB: rssBefore / 2 ** 20, rssPeakMiB: rssPeak / 2 ** 20 })}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
