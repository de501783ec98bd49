import { randomUUID } from 'node:crypto';
import type { RunningApi } from '@flink-orchestrator/api';
import { buildTestJar, FlinkTestDouble } from '@flink-orchestrator/flink-test-double';
import { expect } from 'chai';
import { startApi } from '../support/api-process';
import { DataProcessor } from '../support/data-processor';
import { client, type Client } from '../support/http';
import { REDIS_PREFIX, TEST_READ_TOKEN } from '../support/test-env';

const STREAMING = 'org.apache.flink.streaming.examples.windowing.TopSpeedWindowing';
const MISSING = 'org.example.DoesNotExist';
const THROWS = 'org.example.ThrowsInMain';

const unique = (prefix = 'check') => `${prefix}-${randomUUID().slice(0, 8)}`;

describe('checks before a run: POST /api/v1/jobs/:id/validate and ?validate=true', () => {
  const flink = new FlinkTestDouble();
  const data = new DataProcessor();
  let api: RunningApi;
  let http: Client;
  let jarURL: string;

  before(async () => {
    await flink.start();
    await data.start();
    jarURL = data.serveJar('/jars/app.jar', buildTestJar(STREAMING));
    data.serveJar('/jars/other.jar', buildTestJar(STREAMING, 1000));
    // A queue no worker consumes: nothing here may run anything on Flink anyway.
    api = await startApi({
      QUEUE_PREFIX: `${REDIS_PREFIX}-validate`,
      FLINK_JOBMANAGER_URL: flink.url,
      DATA_PROCESSOR_URL: data.url,
    });
    http = client(api.url);
  });
  after(async () => {
    await api.close();
    await data.stop();
    await flink.stop();
  });

  const createJob = async (fields: Record<string, unknown> = {}) => {
    const res = await http.post('/api/v1/jobs', {
      name: unique(),
      jarURL,
      entryClass: STREAMING,
      config: { speed: 5 },
      parallelism: 2,
      ...fields,
    });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body as { id: string; version: number; entryClass: string | null };
  };
  const validate = (id: string, c: Client = http) => c.post(`/api/v1/jobs/${id}/validate`);

  it("200: the JAR is uploaded to the job's cluster and Flink's plan is answered; no job is submitted", async () => {
    const job = await createJob();
    const submittedBefore = flink.submittedJobIds().length;
    const res = await validate(job.id);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body).to.deep.include({ valid: true, cluster: 'default' });
    expect(res.body.jarId).to.be.a('string');
    expect(flink.jarIds()).to.include(res.body.jarId);
    expect(res.body.plan).to.deep.equal({ name: 'TopSpeedWindowing', operators: 2, maxParallelism: null });
    expect(res.body.operators).to.have.length(2);
    for (const operator of res.body.operators as { id: string; description: string; parallelism: number }[]) {
      expect(operator.id).to.match(/^[0-9a-f]{32}$/);
      expect(operator.description).to.be.a('string').and.not.equal('');
      expect(operator.parallelism).to.equal(2);
    }
    expect(flink.submittedJobIds()).to.have.length(submittedBefore);
    expect((await http.get(`/api/v1/jobs/${job.id}/executions`)).body).to.deep.equal([]);
  });

  it('uploads a JAR once: a second check of any job with the same JAR reuses it', async () => {
    const a = await createJob({ jarURL: data.urlOf('/jars/other.jar') });
    const b = await createJob({ jarURL: data.urlOf('/jars/other.jar') });
    const first = await validate(a.id);
    const uploads = flink.uploads;
    const second = await validate(b.id);
    expect(second.status).to.equal(200);
    expect(second.body.jarId).to.equal(first.body.jarId);
    expect(flink.uploads).to.equal(uploads);
  });

  it("422 validation_failed_on_flink with Flink's reason naming a missing entry class; nothing else changes", async () => {
    const job = await createJob({ entryClass: MISSING });
    const submittedBefore = flink.submittedJobIds().length;
    const res = await validate(job.id);
    expect(res.status, JSON.stringify(res.body)).to.equal(422);
    expect(res.body.error.code).to.equal('validation_failed_on_flink');
    expect(res.body.error.message).to.contain(MISSING);
    expect(res.body.error.details).to.deep.equal({ cluster: 'default', stage: 'plan' });
    expect(flink.submittedJobIds()).to.have.length(submittedBefore);
    const read = await http.get(`/api/v1/jobs/${job.id}`);
    expect(read.body).to.deep.include({ version: job.version, entryClass: MISSING });
    expect((await http.get(`/api/v1/jobs/${job.id}/executions`)).body).to.deep.equal([]);
  });

  it('422 when main() throws, with what it threw', async () => {
    const job = await createJob({ entryClass: THROWS });
    const res = await validate(job.id);
    expect(res.status, JSON.stringify(res.body)).to.equal(422);
    expect(res.body.error.code).to.equal('validation_failed_on_flink');
    expect(res.body.error.message).to.match(/main method caused an error/i);
  });

  it('422 at the jar stage when the data-processor has no such JAR', async () => {
    const job = await createJob({ jarURL: data.urlOf('/jars/missing.jar') });
    const res = await validate(job.id);
    expect(res.status, JSON.stringify(res.body)).to.equal(422);
    expect(res.body.error.details).to.deep.equal({ cluster: 'default', stage: 'jar' });
  });

  it('503 dependency_unavailable when Flink cannot be reached', async () => {
    const cluster = unique('gone');
    expect((await http.post('/api/v1/clusters', { name: cluster, url: 'http://127.0.0.1:9' })).status).to.equal(201);
    const job = await createJob({ cluster });
    const res = await validate(job.id);
    expect(res.status, JSON.stringify(res.body)).to.equal(503);
    expect(res.body.error.code).to.equal('dependency_unavailable');
    expect(res.body.error.message).to.contain('flink');
  });

  it('404 job_not_found for a job that does not exist', async () => {
    const res = await validate(randomUUID());
    expect(res.status).to.equal(404);
    expect(res.body.error.code).to.equal('job_not_found');
  });

  it('403 for a read-only token: a check uploads to Flink', async () => {
    const job = await createJob();
    const res = await validate(job.id, client(api.url, TEST_READ_TOKEN));
    expect(res.status).to.equal(403);
    expect(res.body.error.code).to.equal('forbidden');
  });

  describe('?validate=true', () => {
    it('on create: a class Flink cannot find is 422 and no job is created', async () => {
      const name = unique('refused');
      const res = await http.post('/api/v1/jobs?validate=true', { name, jarURL, entryClass: MISSING });
      expect(res.status, JSON.stringify(res.body)).to.equal(422);
      expect(res.body.error.code).to.equal('validation_failed_on_flink');
      expect(res.body.error.message).to.contain(MISSING);
      const all = await http.get('/api/v1/jobs?limit=500');
      expect((all.body as { name: string }[]).map((j) => j.name)).not.to.include(name);
    });

    it('on create: a good class is created, 201', async () => {
      const res = await http.post('/api/v1/jobs?validate=true', {
        name: unique('good'),
        jarURL,
        entryClass: STREAMING,
      });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      expect(res.body.entryClass).to.equal(STREAMING);
    });

    it('on update: the job merged with the change is checked; refused, the job is unchanged (same version)', async () => {
      const job = await createJob();
      const refused = await http.put(`/api/v1/jobs/${job.id}?validate=true`, { entryClass: MISSING });
      expect(refused.status, JSON.stringify(refused.body)).to.equal(422);
      expect(refused.body.error.code).to.equal('validation_failed_on_flink');
      const read = await http.get(`/api/v1/jobs/${job.id}`);
      expect(read.body).to.deep.include({ version: job.version, entryClass: STREAMING });

      // The rest of the job comes from what is saved: only the parallelism changes, and it passes.
      const changed = await http.put(`/api/v1/jobs/${job.id}?validate=true`, { parallelism: 3 });
      expect(changed.status, JSON.stringify(changed.body)).to.equal(200);
      expect(changed.body).to.deep.include({ version: job.version + 1, parallelism: 3, entryClass: STREAMING });
    });

    it('on update: a stale If-Match is 412 precondition_failed before Flink is asked', async () => {
      const job = await createJob();
      const uploads = flink.uploads;
      const res = await http.put(`/api/v1/jobs/${job.id}?validate=true`, { parallelism: 4 }, { 'If-Match': '"9"' });
      expect(res.status).to.equal(412);
      expect(res.body.error.code).to.equal('precondition_failed');
      expect(flink.uploads).to.equal(uploads);
    });

    it('validate=false, or none, saves without asking Flink; anything but a boolean is 400', async () => {
      const uploads = flink.uploads;
      const res = await http.post('/api/v1/jobs?validate=false', {
        name: unique('plain'),
        jarURL,
        entryClass: MISSING,
      });
      expect(res.status).to.equal(201);
      expect(flink.uploads).to.equal(uploads);
      const bad = await http.post('/api/v1/jobs?validate=yes', { name: unique('bad'), jarURL });
      expect(bad.status).to.equal(400);
      expect(bad.body.error.code).to.equal('validation_failed');
      expect(bad.body.error.details).to.deep.equal([{ field: 'validate', message: bad.body.error.message }]);
    });
  });
});
