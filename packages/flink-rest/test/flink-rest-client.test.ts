import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PermanentFailure, TransientFailure } from '@flink-orchestrator/domain';
import { buildTestJar, FlinkTestDouble } from '@flink-orchestrator/flink-test-double';
import { expect } from 'chai';
import { FlinkRestClient, summarizeFlinkErrors } from '../src';
import { flinkGatewayContract, localJar } from './flink-gateway-contract';

for (const version of ['1.20.1', '2.1.0']) {
  describe(`FlinkRestClient against the test double (Flink ${version})`, () => {
    const flink = new FlinkTestDouble({ version, timing: { savepointMs: 50 } });
    const dir = mkdtempSync(path.join(tmpdir(), 'flink-contract-'));
    const jarPath = path.join(dir, 'TopSpeedWindowing.jar');
    writeFileSync(jarPath, buildTestJar('org.apache.flink.streaming.examples.windowing.TopSpeedWindowing'));
    let client: FlinkRestClient;
    before(async () => {
      await flink.start();
      // The client accepts the base URL with the /v1 prefix too.
      client = new FlinkRestClient({ baseUrl: `${flink.url}/v1/` });
    });
    after(() => flink.stop());

    describe('the FlinkGateway contract', () => {
      flinkGatewayContract(() => ({
        gateway: () => client,
        restUrl: () => flink.url,
        streamingJar: () => localJar(jarPath, 'TopSpeedWindowing.jar'),
      }));
    });

    it('never sends programArgs, only programArgsList, and both restore-mode fields', async () => {
      const jarId = await client.uploadJar(localJar(jarPath, 'TopSpeedWindowing.jar'));
      await client.runJar({
        jarId,
        jobId: 'a'.repeat(32),
        entryClass: null,
        programArgs: ['--speed', '5'],
        parallelism: 2,
        savepointPath: '/sp',
        allowNonRestoredState: true,
      });
      const sent = flink.runRequests.at(-1)?.body;
      expect(sent).to.deep.equal({
        programArgsList: ['--speed', '5'],
        jobId: 'a'.repeat(32),
        allowNonRestoredState: true,
        restoreMode: 'NO_CLAIM',
        claimMode: 'NO_CLAIM',
        parallelism: 2,
        savepointPath: '/sp',
      });
    });

    it('reads the root cause of a failed job from /exceptions, in one line', async () => {
      const jarId = await client.uploadJar(localJar(jarPath, 'TopSpeedWindowing.jar'));
      const jobId = 'b'.repeat(32);
      await client.runJar({
        jarId,
        jobId,
        entryClass: null,
        programArgs: [],
        parallelism: null,
        savepointPath: null,
        allowNonRestoredState: false,
      });
      flink.failJob(jobId, 'java.io.IOException: disk full');
      const cause = await client.failureCause(jobId);
      expect(cause).to.equal(
        'org.apache.flink.runtime.JobException: Recovery is suppressed by NoRestartBackoffTimeStrategy Cause: java.io.IOException: disk full',
      );
    });

    it('plans: a main() that throws is permanent with its reason, a 503 transient; metrics label jars_plan', async () => {
      const calls: string[] = [];
      const counted = new FlinkRestClient({ baseUrl: flink.url, onCall: (endpoint) => calls.push(endpoint) });
      const jarId = await counted.uploadJar(localJar(jarPath, 'TopSpeedWindowing.jar'));
      const plan = await counted.planJar({ jarId, entryClass: null, programArgs: ['--a'], parallelism: null });
      expect(plan).to.deep.include({ name: 'TopSpeedWindowing', maxParallelism: null });
      expect(plan.operators.map((o) => o.parallelism)).to.deep.equal([1, 1]);
      expect(calls).to.deep.equal(['jars_upload', 'jars_plan']);
      try {
        await counted.planJar({ jarId, entryClass: 'com.example.ThrowsInMain', programArgs: [], parallelism: 1 });
        expect.fail('no error');
      } catch (error) {
        expect(error).to.be.instanceOf(PermanentFailure);
        expect((error as Error).message).to.equal(
          'org.apache.flink.client.program.ProgramInvocationException: The main method caused an error: Simulated exception in main() Cause: java.lang.IllegalArgumentException: Simulated exception in main()',
        );
      }
      flink.setOutage('unavailable');
      try {
        await counted.planJar({ jarId, entryClass: null, programArgs: [], parallelism: null });
        expect.fail('no error');
      } catch (error) {
        expect(error).to.be.instanceOf(TransientFailure);
        expect((error as Error).message).to.match(/HTTP 503.*leader election/);
      } finally {
        flink.setOutage('none');
      }
    });

    it('classifies: 503 and refused connections are transient; 4xx permanent', async () => {
      flink.setOutage('unavailable');
      try {
        await client.getJob('c'.repeat(32));
        expect.fail('no error');
      } catch (error) {
        expect(error).to.be.instanceOf(TransientFailure);
        expect((error as Error).message).to.match(/HTTP 503.*leader election/);
      } finally {
        flink.setOutage('none');
      }
      flink.setOutage('refuse');
      try {
        await client.listJarIds();
        expect.fail('no error');
      } catch (error) {
        expect(error).to.be.instanceOf(TransientFailure);
        expect((error as Error).message).to.match(/unreachable/);
      } finally {
        flink.setOutage('none');
      }
      const noDir = new FlinkTestDouble({ version, savepointDir: null });
      await noDir.start();
      try {
        const other = new FlinkRestClient({ baseUrl: noDir.url });
        const jarId = await other.uploadJar(localJar(jarPath, 'TopSpeedWindowing.jar'));
        await other.runJar({
          jarId,
          jobId: 'd'.repeat(32),
          entryClass: null,
          programArgs: [],
          parallelism: null,
          savepointPath: null,
          allowNonRestoredState: false,
        });
        await other.stopWithSavepoint('d'.repeat(32), {
          targetDirectory: null,
          drain: false,
          triggerId: 'e'.repeat(32),
        });
        expect.fail('no error');
      } catch (error) {
        expect(error).to.be.instanceOf(PermanentFailure);
        expect((error as Error).message).to.match(/savepoint-dir\] is not set/);
      } finally {
        await noDir.stop();
      }
    });
  });
}

describe('summarizeFlinkErrors', () => {
  it('keeps the headline and the root cause of a Java stack, without frames or Flink paths', () => {
    const text = [
      'org.apache.flink.runtime.rest.handler.RestHandlerException: Could not execute application.',
      '\tat org.apache.flink.runtime.webmonitor.handlers.JarRunHandler.lambda$handleRequest$4(JarRunHandler.java:114)',
      'Caused by: java.util.concurrent.CompletionException: org.apache.flink.util.FlinkRuntimeException: Could not execute application.',
      '\t... 2 more',
      'Caused by: java.lang.IllegalArgumentException: No file at /tmp/flink-web-1b2c/flink-web-upload/x.jar',
    ];
    expect(summarizeFlinkErrors([text.join('\n')])).to.equal(
      'Could not execute application. Cause: java.lang.IllegalArgumentException: No file at <flink-dir>',
    );
    expect(summarizeFlinkErrors([])).to.equal('Flink gave no error text.');
  });
});
