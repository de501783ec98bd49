import { randomUUID } from 'node:crypto';
import { eventPatternMatches, RelayEvents } from '@flink-orchestrator/domain';
import {
  connect,
  KnexEventStore,
  KnexJobRepository,
  KnexWebhookRepository,
  type Knex,
} from '@flink-orchestrator/postgres';
import { BullEventBus, eventMessageId, redisConnection, type RedisClient } from '@flink-orchestrator/queue-bullmq';
import { expect } from 'chai';
import { databaseUrl, REDIS_PREFIX, REDIS_URL } from '../support/test-env';

/** The outbox on real PostgreSQL and Redis: what the relay and the fan-out rely on. */
describe('event outbox: relay, fan-out and retention against PostgreSQL and Redis', () => {
  let db: Knex;
  let redis: RedisClient;
  let bus: BullEventBus;
  let events: KnexEventStore;
  let webhooks: KnexWebhookRepository;
  let jobs: KnexJobRepository;
  const prefix = `${REDIS_PREFIX}-outbox`;

  before(() => {
    db = connect(databaseUrl());
    redis = redisConnection(REDIS_URL, 'producer');
    bus = new BullEventBus(redis, prefix);
    events = new KnexEventStore(db);
    webhooks = new KnexWebhookRepository(db);
    jobs = new KnexJobRepository(db);
  });
  after(async () => {
    await bus.queue.obliterate({ force: true });
    await bus.close();
    redis.disconnect();
    await db.destroy();
  });

  /** Leaves every event before this test published, so each test sees its own. */
  const settle = async () => db('events').whereNull('published_at').update({ published_at: db.fn.now() });
  const hook = (events: string[], jobId: string | null = null) =>
    webhooks.create({ url: 'https://hooks.example/x', events, jobId, format: 'json', secret: null, enabled: true });
  const newJob = () => jobs.create({ name: `outbox-${randomUUID().slice(0, 8)}`, jarUrl: 'a.jar' } as never);

  it('a relay that died after its publish sends the event again under the same id: the queue keeps one', async () => {
    await settle();
    const created = await hook(['job.*']);
    const job = await newJob();
    const [pending] = await events.pending(10, 60_000);
    expect(pending?.event).to.deep.include({ type: 'job.created', jobId: job.id });
    expect(pending?.wanted).to.equal(true);
    // The relay before the crash: published, never marked.
    await bus.publish([pending!.event]);
    const relay = new RelayEvents(events, bus, { batchSize: 10, resendAfterMs: 60_000 });
    expect(await relay.run()).to.equal(1);
    const jobsInQueue = await bus.queue.getJobs(['waiting', 'delayed', 'active', 'completed']);
    expect(jobsInQueue.filter((j) => j.id === eventMessageId(pending!.event.id))).to.have.length(1);
    expect(await events.pending(10, 60_000)).to.deep.equal([]); // relayed: not sent again within the minute

    // The fan-out, twice (a repeated message): one delivery.
    const first = await webhooks.planDeliveries(pending!.event.id);
    const again = await webhooks.planDeliveries(pending!.event.id);
    expect(first).to.have.length(1);
    expect(again).to.deep.equal(first);
    expect(await db('webhook_deliveries').where({ webhook_id: created.id })).to.have.length(1);
    await events.markPublished([pending!.event.id]);
    await webhooks.delete(created.id);
  });

  it('an event relayed but never fanned out (its message lost with Redis) is relayed again a while later', async () => {
    await settle();
    const created = await hook(['*']);
    await newJob();
    const relay = new RelayEvents(events, bus, { batchSize: 10, resendAfterMs: 60_000 });
    expect(await relay.run()).to.equal(1);
    await bus.queue.obliterate({ force: true }); // Redis flushed
    await db('events')
      .whereNull('published_at')
      .update({ relayed_at: db.raw("clock_timestamp() - interval '2 minutes'") });
    const [lost] = await events.pending(10, 60_000);
    expect(lost?.event.type).to.equal('job.created');
    expect(await relay.run()).to.equal(1);
    expect(await bus.queue.getJob(eventMessageId(lost!.event.id))).to.not.equal(undefined);
    await webhooks.delete(created.id);
  });

  /** Events of these types for these jobs, inserted as the triggers insert them: what the outbox decides at insert. */
  const TYPES = ['job.created', 'job.updated', 'execution.failed', 'schedule.set'];
  const insertEvents = async (jobIds: (string | null)[]) =>
    db('events')
      .insert(TYPES.flatMap((type) => jobIds.map((job_id) => ({ type, job_id }))))
      .returning<{ id: string; type: string; job_id: string | null; published_at: Date | null }[]>([
        'id',
        'type',
        'job_id',
        'published_at',
      ]);
  const wants = (one: { jobId: string | null; events: string[] }, e: { type: string; job_id: string | null }) =>
    (one.jobId === null || one.jobId === e.job_id) && one.events.some((p) => eventPatternMatches(p, e.type));

  it('PostgreSQL matches patterns and job filters as the domain does: at insert and at the fan-out', async () => {
    await settle();
    const job = await newJob();
    const other = await newJob();
    const patterns = [['*'], ['job.*'], ['job.updated'], ['execution.*'], ['schedule.*', 'job.created']];
    const made = [];
    for (const p of patterns) for (const jobId of [null, job.id, other.id]) made.push(await hook(p, jobId));
    const ids = made.map((m) => m.id);

    // One webhook enabled at a time: an event it does not want is stored published, one it wants waits for the relay.
    await db('webhooks').whereIn('id', ids).update({ enabled: false });
    for (const one of made) {
      await db('webhooks').where({ id: one.id }).update({ enabled: true });
      for (const e of await insertEvents([job.id, other.id, null]))
        expect(
          e.published_at === null,
          `${one.events.join(',')} for ${one.jobId} on ${e.type} of ${e.job_id}`,
        ).to.equal(wants(one, e));
      await db('webhooks').where({ id: one.id }).update({ enabled: false });
      await settle();
    }

    // All of them: the fan-out plans a delivery for exactly the webhooks that want the event.
    await db('webhooks').whereIn('id', ids).update({ enabled: true });
    const inserted = await insertEvents([job.id]);
    const pending = (await events.pending(100, 60_000)).filter((p) => p.event.jobId === job.id);
    expect(pending.map((p) => p.event.type)).to.deep.equal(TYPES);
    for (const { event } of pending) {
      await webhooks.planDeliveries(event.id);
      const rows: { webhook_id: string }[] = await db('webhook_deliveries')
        .where({ event_id: event.id })
        .select('webhook_id');
      const planned = new Set(rows.map((r) => r.webhook_id));
      for (const one of made)
        expect(planned.has(one.id), `${one.events.join(',')} for ${one.jobId} on ${event.type}`).to.equal(
          wants(one, { type: event.type, job_id: event.jobId }),
        );
    }
    expect(inserted.every((e) => e.published_at === null)).to.equal(true);
    for (const one of made) await webhooks.delete(one.id);
  });

  it('an event no webhook wants is stored published and never relayed; a wanted one is relayed, once', async () => {
    await settle();
    const created = await hook(['job.updated']);
    const job = await newJob(); // job.created: no webhook wants it
    await jobs.update(job.id, { parallelism: 2 }); // job.updated: wanted
    const rows: { type: string; relayed_at: Date | null; published_at: Date | null }[] = await db('events')
      .where({ job_id: job.id })
      .orderBy('id')
      .select('type', 'relayed_at', 'published_at');
    expect(rows.map((r) => [r.type, r.relayed_at === null, r.published_at === null])).to.deep.equal([
      ['job.created', true, false],
      ['job.updated', true, true],
    ]);
    const relayed: string[] = [];
    const relay = new RelayEvents(events, bus, {
      batchSize: 10,
      resendAfterMs: 60_000,
      observe: (e) => relayed.push(e.type),
    });
    expect(await relay.run()).to.equal(1);
    expect(relayed).to.deep.equal(['job.updated']);
    const [createdEvent, updatedEvent] = (await db('events').where({ job_id: job.id }).orderBy('id')) as {
      id: string;
    }[];
    expect(await bus.queue.getJob(eventMessageId(createdEvent!.id))).to.equal(undefined);
    expect(await bus.queue.getJob(eventMessageId(updatedEvent!.id))).to.not.equal(undefined);
    expect(await webhooks.planDeliveries(updatedEvent!.id)).to.have.length(1);

    // A webhook gets the events written from its creation on: the earlier job.created is not relayed to it.
    const later = await hook(['job.*']);
    expect(await relay.run()).to.equal(0);
    expect(await db('webhook_deliveries').where({ event_id: createdEvent!.id })).to.deep.equal([]);
    await webhooks.delete(created.id);
    await webhooks.delete(later.id);
  });

  it('retention deletes published events older than the cut, and nothing waiting for the relay', async () => {
    await settle();
    const wanting = await hook(['job.*']);
    const job = await newJob();
    await jobs.update(job.id, { parallelism: 3 });
    const mine = await db('events').where({ job_id: job.id }).orderBy('id');
    expect(mine).to.have.length(2);
    await db('events').where({ id: mine[0].id }).update({ published_at: db.fn.now() });
    const future = new Date(Date.now() + 60_000);
    await events.prune(future, 10_000);
    const left = (await db('events').where({ job_id: job.id })) as { id: string }[];
    expect(left.map((e) => e.id)).to.deep.equal([mine[1].id]);
    expect(await events.countPending()).to.be.at.least(1);
    await webhooks.delete(wanting.id);
  });
});
