import { randomBytes, randomUUID } from 'node:crypto';
import type { RunningApi } from '@flink-orchestrator/api';
import type { ClusterObservation } from '@flink-orchestrator/domain';
import { FlinkTestDouble } from '@flink-orchestrator/flink-test-double';
import { connect, KnexClusterObservations, type Knex } from '@flink-orchestrator/postgres';
import { expect } from 'chai';
import { startApi } from '../support/api-process';
import { client, type Client } from '../support/http';
import { databaseUrl, REDIS_PREFIX, TEST_READ_TOKEN } from '../support/test-env';

const unique = (prefix = 'fj') => `${prefix}-${randomUUID().slice(0, 8)}`;
const hexId = () => randomBytes(16).toString('hex');

describe('clusters: what the observer saw, and cancelling Flink jobs no execution owns', () => {
  const flink = new FlinkTestDouble();
  let api: RunningApi;
  let http: Client;
  let db: Knex;
  /** A cluster registered over the API, on the Flink test double. */
  let cluster: string;

  before(async () => {
    await flink.start();
    // A queue no worker consumes: started executions stay QUEUED (active) until stopped.
    api = await startApi({ QUEUE_PREFIX: `${REDIS_PREFIX}-flink-jobs`, FLINK_JOBMANAGER_URL: flink.url });
    http = client(api.url);
    db = connect(databaseUrl());
    cluster = unique('double');
    expect((await http.post('/api/v1/clusters', { name: cluster, url: flink.url })).status).to.equal(201);
  });
  after(async () => {
    await db.destroy();
    await api.close();
    await flink.stop();
  });

  const cancel = (name: string, flinkJobId: string, c: Client = http) =>
    c.post(`/api/v1/clusters/${name}/jobs/${flinkJobId}/cancel`);

  describe('GET /api/v1/clusters/:name: observed', () => {
    it('is null until the observer has seen the cluster; the list and writes answer the cluster alone', async () => {
      const name = unique();
      const created = await http.post('/api/v1/clusters', { name, url: 'http://flink-x:8081' });
      expect(created.body).not.to.have.property('observed');
      const read = await http.get(`/api/v1/clusters/${name}`);
      expect(read.status).to.equal(200);
      expect(read.body).to.deep.include({ name, observed: null });
    });

    it('shows the saved observation: reachability, slots, unmanaged jobs and drifted executions', async () => {
      const name = unique();
      await http.post('/api/v1/clusters', { name, url: 'http://flink-y:8081' });
      const at = new Date('2026-12-01T08:00:00.000Z');
      const later = new Date('2026-12-01T08:05:00.000Z');
      const executionId = randomUUID();
      const jobId = randomUUID();
      const flinkJobId = hexId();
      const observation: ClusterObservation = {
        cluster: name,
        reachable: true,
        reachableSince: at,
        observedAt: later,
        lastError: null,
        runningJobs: 2,
        slots: {
          taskManagers: 2,
          slotsTotal: 8,
          slotsFree: 3,
          defaultParallelism: 2,
          flinkVersion: '1.20.1',
          observedAt: at,
        },
        unmanagedJobs: [{ flinkJobId, name: 'by hand', state: 'RUNNING', startTime: at }],
        driftedExecutions: [
          { executionId, jobId, status: 'CANCELLED', flinkJobId: executionId.replace(/-/g, ''), flinkState: 'RUNNING' },
        ],
      };
      const observations = new KnexClusterObservations(db);
      await observations.save(observation);
      const read = await http.get(`/api/v1/clusters/${name}`);
      expect(read.status).to.equal(200);
      expect(read.body.observed).to.deep.equal({
        reachable: true,
        since: at.toISOString(),
        observedAt: later.toISOString(),
        lastError: null,
        flinkVersion: '1.20.1',
        taskManagers: 2,
        slotsTotal: 8,
        slotsFree: 3,
        defaultParallelism: 2,
        slotsObservedAt: at.toISOString(),
        runningJobs: 2,
        unmanagedJobs: [{ flinkJobId, name: 'by hand', state: 'RUNNING', startTime: at.toISOString() }],
        driftedExecutions: [
          { executionId, jobId, status: 'CANCELLED', flinkJobId: executionId.replace(/-/g, ''), flinkState: 'RUNNING' },
        ],
      });

      // Unreachable, slots never read: every slot figure is null.
      await observations.save({
        ...observation,
        reachable: false,
        reachableSince: later,
        lastError: 'Flink at http://flink-y:8081 is unreachable (ECONNREFUSED).',
        runningJobs: null,
        slots: null,
        unmanagedJobs: [],
        driftedExecutions: [],
      });
      const down = await http.get(`/api/v1/clusters/${name}`);
      expect(down.body.observed).to.deep.include({
        reachable: false,
        since: later.toISOString(),
        lastError: 'Flink at http://flink-y:8081 is unreachable (ECONNREFUSED).',
        flinkVersion: null,
        taskManagers: null,
        slotsTotal: null,
        slotsFree: null,
        defaultParallelism: null,
        slotsObservedAt: null,
        runningJobs: null,
      });
    });
  });

  describe('POST /api/v1/clusters/:name/jobs/:flinkJobId/cancel', () => {
    it('cancels a job Flink runs that no execution owns: 202, and Flink cancels it', async () => {
      const flinkJobId = hexId();
      flink.addRunningJob({ jobId: flinkJobId, name: 'started by hand' });
      const res = await cancel(cluster, flinkJobId);
      expect(res.status, JSON.stringify(res.body)).to.equal(202);
      expect(res.body).to.deep.equal({ cluster, flinkJobId, cancelled: true });
      expect(['CANCELLING', 'CANCELED']).to.include(flink.job(flinkJobId)?.state);
    });

    it('reads the JobID in either case and answers it as Flink writes it, lower case', async () => {
      const flinkJobId = hexId();
      flink.addRunningJob({ jobId: flinkJobId, name: 'upper' });
      const res = await cancel('default', flinkJobId.toUpperCase());
      expect(res.status).to.equal(202);
      expect(res.body).to.deep.equal({ cluster: 'default', flinkJobId, cancelled: true });
    });

    it('400 validation_failed for anything but 32 hex digits', async () => {
      for (const id of ['abc', 'g'.repeat(32), 'a'.repeat(31), 'a'.repeat(33), randomUUID()]) {
        const res = await cancel(cluster, id);
        expect(res.status, id).to.equal(400);
        expect(res.body.error.code).to.equal('validation_failed');
        expect(res.body.error.details).to.deep.equal([{ field: 'flinkJobId', message: res.body.error.message }]);
      }
    });

    it('404 cluster_not_found for a cluster that does not exist, or is no slug', async () => {
      for (const name of [unique('missing'), 'Not_A_Slug']) {
        const res = await cancel(name, hexId());
        expect(res.status).to.equal(404);
        expect(res.body.error.code).to.equal('cluster_not_found');
      }
    });

    it('404 flink_job_not_found when Flink does not know the job', async () => {
      const flinkJobId = hexId();
      const res = await cancel(cluster, flinkJobId);
      expect(res.status).to.equal(404);
      expect(res.body.error.code).to.equal('flink_job_not_found');
      expect(res.body.error.message).to.contain(flinkJobId).and.to.contain(cluster);
    });

    it('409 flink_job_ended when the job has ended already', async () => {
      const flinkJobId = hexId();
      flink.addRunningJob({ jobId: flinkJobId, name: 'done soon' });
      flink.finishJob(flinkJobId);
      const res = await cancel(cluster, flinkJobId);
      expect(res.status).to.equal(409);
      expect(res.body.error.code).to.equal('flink_job_ended');
    });

    it("409 flink_job_managed for an active execution's job, naming the stop to use; once it ended, a job left running is cancelled", async () => {
      const job = await http.post('/api/v1/jobs', { name: unique('job'), jarURL: 'app.jar', cluster });
      const started = await http.post(`/api/v1/jobs/${job.body.id}/start`);
      expect(started.body.status).to.equal('QUEUED');
      const flinkJobId = (started.body.id as string).replace(/-/g, '');
      const refused = await cancel(cluster, flinkJobId);
      expect(refused.status).to.equal(409);
      expect(refused.body.error.code).to.equal('flink_job_managed');
      expect(refused.body.error.message)
        .to.contain(started.body.id)
        .and.to.contain(job.body.id)
        .and.to.contain(`POST /api/v1/jobs/${job.body.id}/stop`);
      expect(refused.body.error.details).to.deep.include({ executionId: started.body.id, jobId: job.body.id });
      expect(flink.job(flinkJobId)).to.equal(undefined); // Flink was not asked
      expect((await http.post(`/api/v1/jobs/${job.body.id}/stop`)).body.status).to.equal('CANCELLED');
      // Drift: the execution is recorded as ended, yet its job runs on Flink.
      flink.addRunningJob({ jobId: flinkJobId, name: 'drifted' });
      const res = await cancel(cluster, flinkJobId);
      expect(res.status).to.equal(202);
      expect(['CANCELLING', 'CANCELED']).to.include(flink.job(flinkJobId)?.state);
    });

    it('503 dependency_unavailable when the JobManager cannot be reached', async () => {
      const name = unique('down');
      await http.post('/api/v1/clusters', { name, url: 'http://127.0.0.1:9' });
      const res = await cancel(name, hexId());
      expect(res.status).to.equal(503);
      expect(res.body.error.code).to.equal('dependency_unavailable');
      expect(res.headers.get('retry-after')).to.equal('5');
    });

    it('needs a write token', async () => {
      const flinkJobId = hexId();
      flink.addRunningJob({ jobId: flinkJobId, name: 'guarded' });
      expect((await cancel(cluster, flinkJobId, client(api.url, null))).status).to.equal(401);
      const refused = await cancel(cluster, flinkJobId, client(api.url, TEST_READ_TOKEN));
      expect(refused.status).to.equal(403);
      expect(flink.job(flinkJobId)?.state).to.equal('RUNNING');
    });
  });
});
