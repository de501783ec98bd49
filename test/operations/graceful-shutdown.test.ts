import { expect } from 'chai';
import { PipelineHarness } from '../support/pipeline-harness';
import { holdRunRequests } from '../support/run-gate';
import { client } from '../support/http';
import { testEnv } from '../support/test-env';
import { waitFor } from '../support/wait';
import { request } from 'node:http';
import { TEST_TOKEN } from '../support/test-env';

/**
 * Starts a POST whose body is sent in two halves; `received` resolves once the API has read
 * its headers (it answers `100 Continue`), `finish` sends the rest and resolves to the status.
 */
function slowCreate(port: number, name: string): { received: Promise<void>; finish(): Promise<number> } {
  let received: () => void = () => undefined;
  const headersRead = new Promise<void>((resolve) => (received = resolve));
  const body = JSON.stringify({ name, jarURL: 'app.jar' });
  const status = new Promise<number>((resolve, reject) => {
    const req = request(
      {
        port,
        host: '127.0.0.1',
        method: 'POST',
        path: '/api/v1/jobs',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          authorization: `Bearer ${TEST_TOKEN}`,
          // Node answers 100 Continue once it has parsed the request: the request is in flight.
          expect: '100-continue',
        },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.on('continue', () => {
      req.write(body.slice(0, 10));
      received();
    });
    pending.set(name, () => req.end(body.slice(10)));
  });
  return {
    received: headersRead,
    finish: () => {
      pending.get(name)?.();
      return status;
    },
  };
}
const pending = new Map<string, () => void>();
import { ServiceProcess } from '../support/worker-processes';

const STREAMING = 'org.apache.flink.streaming.examples.windowing.TopSpeedWindowing';

describe('graceful shutdown on SIGTERM', function () {
  this.timeout(90_000);

  it('the API finishes in-flight requests, stops accepting, and exits 0', async () => {
    // Port 0, and the port read from the log: a fixed one may be taken by another run.
    const api = new ServiceProcess('api-shutdown', 'api', testEnv({ LOG_LEVEL: 'info', PORT: '0' })).start();
    await api.waitForLog('api listening');
    const url = /"url":"(http:\/\/127\.0\.0\.1:\d+)"[^\n]*"msg":"api listening"/.exec(api.output)?.[1];
    if (!url) throw new Error(`no URL in the API's log:\n${api.output.slice(-2000)}`);
    const port = Number(new URL(url).port);
    const http = client(url);
    // Requests whose bodies are still arriving when SIGTERM lands: truly in flight.
    const pending = Array.from({ length: 5 }, (_, i) => slowCreate(port, `shutdown-${Date.now()}-${i}`));
    await Promise.all(pending.map((p) => p.received));
    const exited = api.kill('SIGTERM');
    // New connections are refused while the five are still waiting for their bodies.
    await waitFor('the API to stop accepting connections', () =>
      http.get('/health/live').then(
        () => undefined,
        (error: Error) => /fetch failed/.test(error.message),
      ),
    );
    const statuses = await Promise.all(pending.map((p) => p.finish()));
    expect(statuses).to.deep.equal([201, 201, 201, 201, 201]);
    expect(await exited).to.equal(0);
    expect(api.output).to.contain('shut down cleanly');
  });

  describe('a worker', () => {
    const h = new PipelineHarness({ workers: 1, workerEnv: { SHUTDOWN_TIMEOUT_MS: '1500' } });
    before(() => h.start());
    after(async () => {
      h.flink.setRunDelayHook(null);
      await h.stop();
    });

    it('idle: exits 0 at once', async () => {
      const [worker] = await h.addWorkers(1, 'idle-worker');
      const started = Date.now();
      expect(await worker?.kill('SIGTERM')).to.equal(0);
      expect(Date.now() - started).to.be.below(5000);
    });

    it('busy past SHUTDOWN_TIMEOUT_MS: exits 0 and another worker resumes the execution', async () => {
      const job = await h.createJob(STREAMING);
      const held = holdRunRequests(h.flink);
      const execution = await h.start202(job.id);
      await waitFor('the run request to reach Flink', () => held.arrived() > 0);
      held.stopHolding();
      const busy = h.workers.shift() as ServiceProcess;
      const started = Date.now();
      const code = await busy.kill('SIGTERM');
      expect(code).to.equal(0);
      expect(Date.now() - started).to.be.within(1000, 10_000);
      h.workers.push(...(await h.addWorkers(1, 'successor')));
      held.release();
      const running = await h.waitForStatus(execution.id, 'RUNNING', 60_000);
      expect(h.flink.submittedJobIds().filter((id) => id === running.flinkJobId)).to.have.length(1);
      await h.http.post(`/api/v1/jobs/${job.id}/stop`);
      await h.waitForStatus(execution.id, 'CANCELLED');
    });
  });
});
