import type { RunningApi } from '@flink-orchestrator/api';
import { expect } from 'chai';
import { startApi } from '../support/api-process';
import { client } from '../support/http';
import { PipelineHarness } from '../support/pipeline-harness';
import { waitFor } from '../support/wait';

const STREAMING = 'org.apache.flink.streaming.examples.windowing.TopSpeedWindowing';

interface LogLine {
  level: string;
  msg: string;
  stack?: string;
  err?: unknown;
}

const linesOf = (output: string): LogLine[] =>
  output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);

describe('a quiet, clear service while Flink is unreachable', function () {
  this.timeout(60_000);

  describe('GET /health reports Flink without failing readiness', () => {
    const apis: RunningApi[] = [];
    after(() => Promise.all(apis.map((a) => a.close())));

    it('"flink": "unreachable" with status ok and 200; "ok" when Flink answers', async () => {
      const h = new PipelineHarness({ workers: 0 });
      await h.flink.start();
      try {
        apis.push(await startApi({ FLINK_JOBMANAGER_URL: 'http://127.0.0.1:1' }));
        apis.push(await startApi({ FLINK_JOBMANAGER_URL: h.flink.url }));
        const [down, up] = apis.map((a) => client(a.url, null)) as [
          ReturnType<typeof client>,
          ReturnType<typeof client>,
        ];
        const without = await down.get('/health');
        expect(without.status).to.equal(200);
        expect(without.body).to.deep.equal({
          status: 'ok',
          checks: { postgres: 'ok', redis: 'ok', flink: 'unreachable' },
        });
        const withFlink = await up.get('/health');
        expect(withFlink.status).to.equal(200);
        expect(withFlink.body.checks.flink).to.equal('ok');
      } finally {
        await h.flink.stop();
      }
    });
  });

  describe('the worker', () => {
    const h = new PipelineHarness({
      workers: 1,
      workerEnv: { LOG_LEVEL: 'info', RECONCILE_INTERVAL_MS: '500', POLL_INTERVAL_MS: '100' },
    });
    before(() => h.start());
    after(() => h.stop());

    async function unreachableCalls(metricsUrl: string): Promise<number> {
      const text = await (await fetch(metricsUrl)).text();
      // Any endpoint: the JAR collector asks Flink only when it has jars to delete.
      const series = [...text.matchAll(/^flink_api_calls_total\{[^}]*outcome="unreachable"[^}]*\} (\d+)/gm)];
      return series.reduce((sum, m) => sum + Number(m[1]), 0);
    }

    it('logs one warning (no stack) when Flink goes and one info line when it is back', async () => {
      const worker = h.workers[0]!;
      const port = (linesOf(worker.output).find((l) => l.msg === 'worker metrics listening') as { port?: number })
        ?.port;
      expect(port, 'the worker logs its metrics port').to.be.a('number');
      const job = await h.createJob(STREAMING);
      const started = await h.start202(job.id);
      await h.waitForStatus(started.id, 'RUNNING');
      const before = worker.output.length;

      h.flink.setOutage('refuse');
      await waitFor('the execution to show Flink unreachable', async () => {
        return (await h.execution(started.id)).flinkState === 'UNREACHABLE';
      });
      // Many polls fail meanwhile (and chores, when they have jars to collect); each would once have logged a stack.
      await waitFor(
        'five failed Flink calls',
        async () => (await unreachableCalls(`http://127.0.0.1:${port}/metrics`)) >= 5,
      );
      const during = linesOf(worker.output.slice(before));
      expect(during.filter((l) => l.msg === 'flink is unreachable').map((l) => l.level)).to.deep.equal(['warn']);
      expect(during.filter((l) => l.level === 'warn' || l.level === 'error').length).to.equal(1);
      expect(during.some((l) => l.stack !== undefined || l.err !== undefined)).to.equal(false);

      h.flink.setOutage('none');
      await waitFor('the execution to be tracked again', async () => {
        return (await h.execution(started.id)).flinkState === 'RUNNING';
      });
      const after = linesOf(worker.output.slice(before));
      expect(after.filter((l) => l.msg === 'flink is reachable again').map((l) => l.level)).to.deep.equal(['info']);
      expect(after.filter((l) => l.msg === 'flink is unreachable').length).to.equal(1);
    });
  });
});
