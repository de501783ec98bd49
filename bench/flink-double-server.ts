// The Flink test double as its own process, so benchmarks measure our processes, not it.
//
// DOUBLE_COUNT=n serves n doubles (n clusters) on n ports, one `FLINK_URL=` line each, in order.
// DOUBLE_SLOTS sets each one's slot count. DOUBLE_CONTROL=1 adds a small HTTP control server,
// printed as `CONTROL_URL=` after the doubles, for what the double has no REST endpoint for:
//   POST /jobs  {"double": 0, "jobs": [{"jobId": "<32 hex>", "name": "…"}]} → {"added": n}
//   POST /state {"double": 0, "jobId": "<32 hex>", "state": "FINISHED"}     → {"at": <epoch ms of the change>}
import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FlinkTestDouble } from '@flink-orchestrator/flink-test-double';

const count = Number(process.env.DOUBLE_COUNT ?? 1);
const slots = process.env.DOUBLE_SLOTS ? Number(process.env.DOUBLE_SLOTS) : undefined;
const doubles = Array.from(
  { length: count },
  () =>
    new FlinkTestDouble({
      timing: {
        initializeMs: Number(process.env.DOUBLE_INITIALIZE_MS ?? 20),
        finishMs: Number(process.env.DOUBLE_FINISH_MS ?? 1),
      },
      ...(slots === undefined ? {} : { slots }),
    }),
);

const fail = (error: unknown) => {
  process.stderr.write(`flink double: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
};

async function body(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req) text += (chunk as Buffer).toString();
  return JSON.parse(text) as Record<string, unknown>;
}

function control(): http.Server {
  return http.createServer((req, res) => {
    const answer = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    const handle = async (): Promise<[number, unknown]> => {
      const input = await body(req);
      const flink = doubles[Number(input.double ?? 0)];
      if (!flink) return [404, { error: `no double ${String(input.double)}` }];
      if (req.method === 'POST' && req.url === '/jobs') {
        const jobs = input.jobs as { jobId: string; name: string; parallelism?: number }[];
        for (const job of jobs) flink.addRunningJob(job);
        return [200, { added: jobs.length }];
      }
      if (req.method === 'POST' && req.url === '/state') {
        flink.setJobState(String(input.jobId), String(input.state));
        return [200, { at: Date.now() }];
      }
      return [404, { error: `${req.method} ${req.url}?` }];
    };
    handle().then(
      ([status, value]) => answer(status, value),
      (error: unknown) => answer(400, { error: error instanceof Error ? error.message : String(error) }),
    );
  });
}

async function main(): Promise<void> {
  for (const flink of doubles) process.stdout.write(`FLINK_URL=${await flink.start()}\n`);
  if (process.env.DOUBLE_CONTROL === '1') {
    const server = control();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    process.stdout.write(`CONTROL_URL=http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
  }
}

main().catch(fail);
process.on('SIGTERM', () => {
  Promise.all(doubles.map((flink) => flink.stop())).then(() => process.exit(0), fail);
});
