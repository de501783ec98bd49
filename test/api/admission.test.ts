import { randomUUID } from 'node:crypto';
import type { RunningApi } from '@flink-orchestrator/api';
import { connect, KnexExecutionRepository, type Knex } from '@flink-orchestrator/postgres';
import { expect } from 'chai';
import { startApi } from '../support/api-process';
import { client, type Client } from '../support/http';
import { databaseUrl, REDIS_PREFIX } from '../support/test-env';

const job = (overrides: Record<string, unknown> = {}) => ({
  name: `adm-${randomUUID().slice(0, 8)}`,
  jarURL: 'app.jar',
  ...overrides,
});

describe('admission: on jobs and executions', () => {
  let api: RunningApi;
  let http: Client;
  let db: Knex;

  before(async () => {
    // A queue no worker consumes: started executions stay QUEUED.
    api = await startApi({ QUEUE_PREFIX: `${REDIS_PREFIX}-admission` });
    http = client(api.url);
    db = connect(databaseUrl());
  });
  after(async () => {
    await db.destroy();
    await api.close();
  });

  it('a job waits for slots unless it says otherwise; PUT changes it', async () => {
    const plain = await http.post('/api/v1/jobs', job());
    expect(plain.status).to.equal(201);
    expect(plain.body.admission).to.equal('slots');
    expect((await http.get(`/api/v1/jobs/${plain.body.id}`)).body.admission).to.equal('slots');

    const ignoring = await http.post('/api/v1/jobs', job({ admission: 'ignore' }));
    expect(ignoring.status).to.equal(201);
    expect(ignoring.body.admission).to.equal('ignore');

    const changed = await http.put(`/api/v1/jobs/${plain.body.id}`, { admission: 'ignore' });
    expect(changed.status).to.equal(200);
    expect(changed.body).to.include({ admission: 'ignore', version: plain.body.version + 1 });
    // Another change keeps it.
    const renamed = await http.put(`/api/v1/jobs/${plain.body.id}`, { parallelism: 2 });
    expect(renamed.body.admission).to.equal('ignore');
    const back = await http.put(`/api/v1/jobs/${plain.body.id}`, { admission: 'slots' });
    expect(back.body.admission).to.equal('slots');
  });

  it('refuses any other admission with 400 validation_failed naming it, on create and update', async () => {
    const existing = await http.post('/api/v1/jobs', job());
    for (const admission of ['maybe', 'SLOTS', '', null, 1, true]) {
      const created = await http.post('/api/v1/jobs', job({ admission }));
      expect(created.status, JSON.stringify(admission)).to.equal(400);
      expect(created.body.error.code).to.equal('validation_failed');
      const fields = new Set(created.body.error.details.map((d: { field: string }) => d.field));
      expect([...fields]).to.deep.equal(['admission']);
      const updated = await http.put(`/api/v1/jobs/${existing.body.id}`, { admission });
      expect(updated.status, JSON.stringify(admission)).to.equal(400);
      expect([...new Set(updated.body.error.details.map((d: { field: string }) => d.field))]).to.deep.equal([
        'admission',
      ]);
    }
    expect((await http.get(`/api/v1/jobs/${existing.body.id}`)).body).to.include({ admission: 'slots', version: 1 });
  });

  it('an execution shows its admission, copied from the job, and what it waits for', async () => {
    const created = await http.post('/api/v1/jobs', job({ admission: 'ignore' }));
    const started = await http.post(`/api/v1/jobs/${created.body.id}/start`);
    expect(started.status).to.equal(202);
    expect(started.body).to.deep.include({ status: 'QUEUED', admission: 'ignore', waitingFor: null, waiting: null });
    try {
      // The job changing afterwards does not change the execution's copy.
      await http.put(`/api/v1/jobs/${created.body.id}`, { admission: 'slots' });
      const since = new Date('2026-12-01T08:00:00.000Z');
      const executions = new KnexExecutionRepository(db);
      const waiting = { waitingFor: 'slots' as const, slotsNeeded: 4, slotsFree: 1, since, checks: 3 };
      expect(await executions.patch(started.body.id, ['QUEUED'], { waiting })).not.to.equal(null);
      const read = await http.get(`/api/v1/executions/${started.body.id}`);
      expect(read.status).to.equal(200);
      expect(read.body).to.deep.include({
        admission: 'ignore',
        waitingFor: 'slots',
        waiting: { slotsNeeded: 4, slotsFree: 1, since: since.toISOString(), checks: 3 },
      });
      const history = await http.get(`/api/v1/jobs/${created.body.id}/executions`);
      expect(history.body[0]).to.deep.include({ waitingFor: 'slots', admission: 'ignore' });
    } finally {
      expect((await http.post(`/api/v1/jobs/${created.body.id}/stop`)).body.status).to.equal('CANCELLED');
    }
  });
});
