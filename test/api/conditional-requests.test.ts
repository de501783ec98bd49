import { randomUUID } from 'node:crypto';
import type { RunningApi } from '@flink-orchestrator/api';
import { connect, type Knex } from '@flink-orchestrator/postgres';
import { expect } from 'chai';
import { startApi } from '../support/api-process';
import { client, type Client, type Reply } from '../support/http';
import { databaseUrl } from '../support/test-env';
import { waitFor } from '../support/wait';

const unique = () => `cond-${randomUUID().slice(0, 8)}`;
const CRON = { cron: '0 * * * * *' };

/**
 * If-Match on every change of a job: the version it names is compared in the statement (or
 * under the row lock) that writes, a stale one answers 412 precondition_failed and changes
 * nothing; no If-Match, or `*`, changes whatever the version.
 */
describe('conditional requests: If-Match on every change of a job', () => {
  let api: RunningApi;
  let http: Client;
  let db: Knex;

  before(async () => {
    api = await startApi();
    http = client(api.url);
    db = connect(databaseUrl());
  });
  after(async () => {
    await api?.close();
    await db?.destroy();
  });

  const createJob = async () => {
    const res = await http.post('/api/v1/jobs', { name: unique(), jarURL: 'a.jar' });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body as { id: string; version: number };
  };
  /** A job at version 2 with a schedule. */
  const scheduledJob = async () => {
    const job = await createJob();
    expect((await http.post(`/api/v1/jobs/${job.id}/schedule`, CRON)).status).to.equal(200);
    return { id: job.id, version: 2 };
  };
  /** A job with a RUNNING execution (set in PostgreSQL: no worker runs here), so an upgrade is an operation. */
  const runningJob = async () => {
    const job = await createJob();
    const started = await http.post(`/api/v1/jobs/${job.id}/start`);
    expect(started.status, JSON.stringify(started.body)).to.equal(202);
    await db('job_executions')
      .where({ id: started.body.id })
      .update({ status: 'RUNNING', flink_job_id: started.body.id.replace(/-/g, '') });
    return job;
  };
  /** The job's row and its upgrades, as PostgreSQL holds them. */
  const state = async (id: string) => ({
    job: await db('jobs').where({ id }).first(),
    upgrades: await db('upgrades').where({ job_id: id }).orderBy('id'),
  });
  const expect412 = (res: Reply, current: number) => {
    expect(res.status, JSON.stringify(res.body)).to.equal(412);
    expect(res.body.error.code).to.equal('precondition_failed');
    expect(res.body.error.message).to.match(new RegExp(`version ${current}\\b`));
    expect(res.body.error.details).to.deep.equal({ currentVersion: current });
  };

  interface Route {
    name: string;
    setup: () => Promise<{ id: string; version: number }>;
    send: (id: string, headers: Record<string, string>) => Promise<Reply>;
    ok: number;
    /** After a success: the change was made. */
    done: (id: string) => Promise<unknown>;
  }
  const routes: Route[] = [
    {
      name: 'PUT /api/v1/jobs/:id',
      setup: createJob,
      send: (id, headers) => http.put(`/api/v1/jobs/${id}`, { parallelism: 7 }, headers),
      ok: 200,
      done: async (id) => expect((await http.get(`/api/v1/jobs/${id}`)).body.parallelism).to.equal(7),
    },
    {
      name: 'DELETE /api/v1/jobs/:id',
      setup: createJob,
      send: (id, headers) => http.delete(`/api/v1/jobs/${id}`, headers),
      ok: 204,
      done: async (id) => expect((await http.get(`/api/v1/jobs/${id}`)).status).to.equal(404),
    },
    {
      name: 'POST /api/v1/jobs/:id/schedule',
      setup: createJob,
      send: (id, headers) => http.post(`/api/v1/jobs/${id}/schedule`, CRON, headers),
      ok: 200,
      done: async (id) => expect((await http.get(`/api/v1/jobs/${id}`)).body.schedule.cron).to.equal(CRON.cron),
    },
    {
      name: 'DELETE /api/v1/jobs/:id/schedule',
      setup: scheduledJob,
      send: (id, headers) => http.delete(`/api/v1/jobs/${id}/schedule`, headers),
      ok: 204,
      done: async (id) => expect((await http.get(`/api/v1/jobs/${id}`)).body.schedule).to.equal(null),
    },
    {
      name: 'POST /api/v1/jobs/:id/upgrade (nothing running: a plain update)',
      setup: createJob,
      send: (id, headers) => http.post(`/api/v1/jobs/${id}/upgrade`, { parallelism: 7 }, headers),
      ok: 200,
      done: async (id) => expect((await http.get(`/api/v1/jobs/${id}`)).body.parallelism).to.equal(7),
    },
    {
      name: 'POST /api/v1/jobs/:id/upgrade (an execution RUNNING: an upgrade under way)',
      setup: runningJob,
      send: (id, headers) => http.post(`/api/v1/jobs/${id}/upgrade`, { parallelism: 7 }, headers),
      ok: 202,
      done: async (id) =>
        expect(
          (await http.get(`/api/v1/jobs/${id}/upgrades`)).body.map((u: { status: string }) => u.status),
        ).to.deep.equal(['IN_PROGRESS']),
    },
  ];

  for (const route of routes) {
    describe(route.name, () => {
      it('the current ETag succeeds', async () => {
        const job = await route.setup();
        const res = await route.send(job.id, { 'If-Match': `"${job.version}"` });
        expect(res.status, JSON.stringify(res.body)).to.equal(route.ok);
        await route.done(job.id);
      });

      it('a stale ETag: 412 precondition_failed naming the current version, and nothing changes', async () => {
        const job = await route.setup();
        const before = await state(job.id);
        for (const tag of [`"${job.version + 1}"`, `W/"${job.version - 1 || 9}"`, '42']) {
          expect412(await route.send(job.id, { 'If-Match': tag }), job.version);
        }
        expect(await state(job.id)).to.deep.equal(before);
      });

      it('a change committed while the request waits for the row: 412, the check being the write’s own', async () => {
        const job = await route.setup();
        const before = await state(job.id);
        // Another writer holds the job row; the request blocks on it, then finds the version moved.
        const trx = await db.transaction();
        let reply: Promise<Reply> | undefined;
        try {
          await trx('jobs').where({ id: job.id }).forUpdate().first('id');
          reply = route.send(job.id, { 'If-Match': `"${job.version}"` });
          await waitFor('the request to wait for the job row', async () => {
            const waiting = await db.raw<{ rows: unknown[] }>(
              "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
            );
            return waiting.rows.length > 0 || undefined;
          });
          await trx('jobs')
            .where({ id: job.id })
            .update({ version: db.raw('version + 1') });
          await trx.commit();
        } catch (error) {
          await trx.rollback();
          throw error;
        }
        expect412(await reply, job.version + 1);
        // Only the other writer's change is there.
        expect(await state(job.id)).to.deep.equal({ ...before, job: { ...before.job, version: job.version + 1 } });
      });

      it('no If-Match, or *, changes whatever the version', async () => {
        const job = await route.setup();
        await db('jobs')
          .where({ id: job.id })
          .update({ version: db.raw('version + 5') });
        const res = await route.send(job.id, { 'If-Match': '*' });
        expect(res.status, JSON.stringify(res.body)).to.equal(route.ok);
        await route.done(job.id);
      });
    });
  }

  it('a malformed If-Match on a delete is 400 naming it, and nothing changes', async () => {
    const job = await createJob();
    const res = await http.delete(`/api/v1/jobs/${job.id}`, { 'If-Match': '"abc"' });
    expect(res.status).to.equal(400);
    expect(res.body.error.code).to.equal('validation_failed');
    expect(res.body.error.details.map((d: { field: string }) => d.field)).to.deep.equal(['If-Match']);
    expect((await http.get(`/api/v1/jobs/${job.id}`)).status).to.equal(200);
  });

  it('PUT: a stale `version` in the body stays 409 job_modified', async () => {
    const job = await createJob();
    const res = await http.put(`/api/v1/jobs/${job.id}`, { parallelism: 2, version: 9 });
    expect(res.status).to.equal(409);
    expect(res.body.error.code).to.equal('job_modified');
    expect(res.body.error.details).to.deep.equal({ currentVersion: 1 });
  });

  it('POST /schedule answers the job’s new version as its ETag, for the next conditional change', async () => {
    const job = await createJob();
    const set = await http.post(`/api/v1/jobs/${job.id}/schedule`, CRON, { 'If-Match': '"1"' });
    expect(set.headers.get('etag')).to.equal('"2"');
    const removed = await http.delete(`/api/v1/jobs/${job.id}/schedule`, { 'If-Match': set.headers.get('etag') ?? '' });
    expect(removed.status).to.equal(204);
  });
});
