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

  it('PostgreSQL matches patterns and job filters as the domain does', async () => {
    await settle();
    const job = await newJob();
    const other = await newJob();
    await jobs.update(job.id, { parallelism: 2 });
    const patterns = [['*'], ['job.*'], ['job.updated'], ['execution.*'], ['schedule.*', 'job.created']];
    const made = [];
    for (const p of patterns) for (const jobId of [null, job.id, other.id]) made.push(await hook(p, jobId));
    const pending = (await events.pending(100, 60_000)).filter((p) => p.event.jobId === job.id);
    expect(pending.map((p) => p.event.type)).to.deep.equal(['job.created', 'job.updated']);
    for (const { event } of pending) {
      await webhooks.planDeliveries(event.id);
      const rows: { webhook_id: string }[] = await db('webhook_deliveries')
        .where({ event_id: event.id })
        .select('webhook_id');
      const planned = new Set(rows.map((r) => r.webhook_id));
      for (const one of made) {
        const wanted =
          (one.jobId === null || one.jobId === event.jobId) &&
          one.events.some((p) => eventPatternMatches(p, event.type));
        expect(planned.has(one.id), `${one.events.join(',')} for ${one.jobId} on ${event.type}`).to.equal(wanted);
      }
    }
    for (const one of made) await webhooks.delete(one.id);
  });

  it('retention deletes published events older than the cut, and nothing waiting for the relay', async () => {
    await settle();
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
  });
});
