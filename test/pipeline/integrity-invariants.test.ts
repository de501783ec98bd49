import { FlinkRestClient } from '@flink-orchestrator/flink-rest';
import { expect } from 'chai';
import { Client } from 'pg';
import {
  assertHarnessIntegrity,
  type ExecutionFact,
  type FlinkJobSummary,
  integrityViolations,
  recordViolations,
  type RunRequestFact,
} from '../support/integrity';
import { PipelineHarness } from '../support/pipeline-harness';

const STREAMING = 'org.apache.flink.streaming.examples.windowing.TopSpeedWindowing';
const J = 'a'.repeat(32);
const T0 = Date.parse('2030-01-01T00:00:00Z');

const execution = (patch: Partial<ExecutionFact> = {}): ExecutionFact => ({
  id: 'e-1',
  status: 'RUNNING',
  flinkJobId: J,
  runRequestedAt: new Date(T0),
  ...patch,
});
const request = (patch: Partial<RunRequestFact> = {}): RunRequestFact => ({
  jobId: J,
  at: T0 + 10,
  status: 200,
  outcome: 'accepted',
  delivered: true,
  ...patch,
});
const running: FlinkJobSummary[] = [{ jid: J, state: 'RUNNING' }];

/** The checks must be able to fail: each case breaks one promise on purpose. */
describe('the exactly-once and orphan invariants catch what they promise to catch', () => {
  describe('integrityViolations (facts given)', () => {
    it('a single accepted submission of a running execution is fine', () => {
      expect(
        integrityViolations({ flinkJobs: running, executions: [execution()], runRequests: [request()] }),
      ).to.deep.equal([]);
    });

    it('a run request sent again after Flink answered the first one is caught, even when Flink refused it', () => {
      const violations = integrityViolations({
        flinkJobs: running,
        executions: [execution()],
        runRequests: [request(), request({ at: T0 + 20, status: 400, outcome: 'duplicate' })],
      });
      expect(violations).to.have.length(1);
      expect(violations[0]).to.match(/execution e-1 sent run request 2 of 2 although Flink's answer to request 1/);
    });

    it('a second request is allowed when the first answer never reached the worker (crash, timeout) or was a 5xx', () => {
      for (const first of [
        request({ delivered: false }),
        request({ status: null, outcome: null, delivered: null }),
        request({ status: 503, outcome: 'refused' }),
      ]) {
        const violations = integrityViolations({
          flinkJobs: running,
          executions: [execution()],
          runRequests: [first, request({ at: T0 + 20, status: 400, outcome: 'duplicate' })],
        });
        expect(violations, JSON.stringify(first)).to.deep.equal([]);
      }
    });

    it('two accepted submissions (Flink forgot the first JobID) are caught', () => {
      const violations = integrityViolations({
        flinkJobs: running,
        executions: [execution()],
        runRequests: [request({ delivered: false }), request({ at: T0 + 20 })],
      });
      expect(violations).to.deep.equal([`Flink accepted execution e-1 2 times (JobID ${J})`]);
    });

    it('a run request before run_requested_at, or without it, or for a JobID nobody owns, is caught', () => {
      expect(
        integrityViolations({ flinkJobs: [], executions: [execution()], runRequests: [request({ at: T0 - 1 })] })[0],
      ).to.match(/before its run_requested_at/);
      expect(
        integrityViolations({
          flinkJobs: [],
          executions: [execution({ runRequestedAt: null })],
          runRequests: [request()],
        }),
      ).to.deep.equal(['execution e-1 sent a run request but never recorded run_requested_at']);
      expect(integrityViolations({ flinkJobs: [], executions: [], runRequests: [request()] })).to.deep.equal([
        `1 run request(s) for JobID ${J}, which no execution owns`,
      ]);
    });

    it('an orphan is caught: a running Flink job nobody owns, or whose execution ended here', () => {
      expect(integrityViolations({ flinkJobs: running, executions: [] })).to.deep.equal([
        `orphan: Flink job ${J} is RUNNING and no execution owns it`,
      ]);
      expect(
        integrityViolations({
          flinkJobs: [{ jid: J, state: 'CANCELLING' }],
          executions: [execution({ status: 'CANCELLED' })],
        }),
      ).to.deep.equal([`orphan: Flink job ${J} is CANCELLING but its execution e-1 already ended CANCELLED`]);
    });

    it('a Flink job on another cluster than its execution was sent to is caught, and so is its run request', () => {
      const K = 'c'.repeat(32);
      const violations = integrityViolations({
        flinkJobs: [{ jid: J, state: 'RUNNING', cluster: 'second' }],
        executions: [execution({ cluster: 'default', jobId: 'job-1' })],
        runRequests: [request({ cluster: 'second' })],
      });
      expect(violations).to.deep.equal([
        `Flink job ${J} is on cluster second but its execution e-1 was sent to default`,
        'cluster second received a run request for execution e-1, which was sent to default',
      ]);
      // The same JobID space across clusters: a job on its own cluster is fine.
      expect(
        integrityViolations({
          flinkJobs: [{ jid: K, state: 'RUNNING', cluster: 'second' }],
          executions: [execution({ id: 'e-2', flinkJobId: K, cluster: 'second', jobId: 'job-2' })],
        }),
      ).to.deep.equal([]);
    });

    it('a run request of an execution deleted since (with its job) is explained; its Flink job still running is not', () => {
      const gone = { executions: [], runRequests: [request()], gone: [J] };
      expect(integrityViolations({ flinkJobs: [{ jid: J, state: 'CANCELED' }], ...gone })).to.deep.equal([]);
      expect(integrityViolations({ flinkJobs: running, ...gone })).to.deep.equal([
        `orphan: Flink job ${J} is RUNNING and no execution owns it`,
      ]);
    });

    it('two Flink jobs of one definition running at once are caught, across clusters; an ending one or `allow` is not', () => {
      const K = 'c'.repeat(32);
      const two = (state: string, overlapAllowed = false) =>
        integrityViolations({
          flinkJobs: [
            { jid: J, state, cluster: 'default' },
            { jid: K, state: 'RUNNING', cluster: 'second' },
          ],
          executions: [
            execution({ cluster: 'default', jobId: 'job-1', overlapAllowed }),
            execution({ id: 'e-2', flinkJobId: K, cluster: 'second', jobId: 'job-1', overlapAllowed }),
          ],
        });
      expect(two('RUNNING')).to.deep.equal([
        `job job-1 has 2 Flink jobs running at once: ${J} (RUNNING, default), ${K} (RUNNING, second)`,
      ]);
      expect(two('RESTARTING')).to.have.length(1);
      expect(two('CANCELLING'), 'the old run is on its way out').to.deep.equal([]);
      expect(two('RUNNING', true), 'overlap: allow').to.deep.equal([]);
    });

    it('an execution that ended here otherwise than on Flink is caught; Flink ending first is not', () => {
      const ended = (status: string, state: string) =>
        integrityViolations({ flinkJobs: [{ jid: J, state }], executions: [execution({ status })] });
      expect(ended('STOPPED', 'CANCELED')[0]).to.match(/ended STOPPED but Flink's job .* ended CANCELED/);
      expect(ended('LOST', 'FINISHED')[0]).to.match(/must be unknown to Flink/);
      expect(ended('STOPPED', 'FINISHED')).to.deep.equal([]);
      expect(ended('CANCELLED', 'CANCELED')).to.deep.equal([]);
      expect(ended('RUNNING', 'FINISHED'), 'the tracker has not looked yet').to.deep.equal([]);
    });
  });

  describe('assertHarnessIntegrity (a live double and PostgreSQL)', function () {
    this.timeout(60_000);
    const h = new PipelineHarness({ workers: 1 });
    before(() => h.start());
    after(() => h.stop());

    it('passes on a real submission, then fails on a duplicated run request, an orphan, an execution ended too early', async () => {
      const job = await h.createJob(STREAMING);
      const e = await h.waitForStatus((await h.start202(job.id)).id, 'RUNNING');
      await assertHarnessIntegrity(h);

      // A worker that sends the run request again although Flink answered: Flink refuses it as a
      // duplicate (so it still runs once), and the invariant must still see it.
      const flink = new FlinkRestClient({ baseUrl: h.flink.url });
      const again = { jarId: e.flinkJarId, jobId: e.flinkJobId, entryClass: null, programArgs: [], parallelism: null };
      expect(await flink.runJar({ ...again, savepointPath: null, allowNonRestoredState: false })).to.equal('duplicate');
      const duplicated = await assertHarnessIntegrity(h).then(
        () => null,
        (error: Error) => error,
      );
      expect(duplicated?.message).to.match(new RegExp(`execution ${e.id} sent run request 2 of 2`));

      // A job on Flink that no execution owns.
      const orphanId = 'b'.repeat(32);
      await flink.runJar({ ...again, jobId: orphanId, savepointPath: null, allowNonRestoredState: false });
      const orphan = await assertHarnessIntegrity(h).then(
        () => null,
        (error: Error) => error,
      );
      expect(orphan?.message).to.contain(`orphan: Flink job ${orphanId} is RUNNING and no execution owns it`);

      // The record says CANCELLED while Flink still runs the job.
      const db = new Client({ connectionString: h.databaseUrl });
      await db.connect();
      try {
        await db.query(`UPDATE job_executions SET status = 'CANCELLED', finished_at = now() WHERE id = $1`, [e.id]);
      } finally {
        await db.end();
      }
      const early = await assertHarnessIntegrity(h).then(
        () => null,
        (error: Error) => error,
      );
      expect(early?.message).to.contain(
        `orphan: Flink job ${e.flinkJobId} is RUNNING but its execution ${e.id} already ended CANCELLED`,
      );
    });

    it('sees a second execution for one failure once the unique index that forbids it is gone', async () => {
      const job = await h.createJob(STREAMING);
      const db = new Client({ connectionString: h.databaseUrl });
      await db.connect();
      try {
        const failed = await db.query<{ id: string }>(
          `INSERT INTO job_executions (job_id, status, trigger, finished_at) VALUES ($1, 'FAILED', 'manual', now()) RETURNING id`,
          [job.id],
        );
        const failure = failed.rows[0]?.id;
        // What a migration dropping the index would allow: two restarts of one failure.
        await db.query('DROP INDEX job_executions_restart_of_uq');
        try {
          for (let i = 0; i < 2; i++)
            await db.query(
              `INSERT INTO job_executions (job_id, status, trigger, restart_of, finished_at)
               VALUES ($1, 'CANCELLED', 'restart', $2, now())`,
              [job.id, failure],
            );
          const seen = await assertHarnessIntegrity(h).then(
            () => null,
            (error: Error) => error,
          );
          expect(seen?.message).to.contain(`2 records for one failure (${failure})`);
        } finally {
          await db.query('DELETE FROM job_executions WHERE restart_of = $1', [failure]);
          await db.query(
            'CREATE UNIQUE INDEX job_executions_restart_of_uq ON job_executions (restart_of) WHERE restart_of IS NOT NULL',
          );
        }
      } finally {
        await db.end();
      }
      expect(await recordViolations(h.databaseUrl), 'index back, rows gone').to.deep.equal([]);
    });
  });
});
