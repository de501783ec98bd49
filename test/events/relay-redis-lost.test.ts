import { randomBytes } from 'node:crypto';
import { DEFAULT_CLUSTER, DependencyUnavailable } from '@flink-orchestrator/domain';
import { WEBHOOK_HEADERS } from '@flink-orchestrator/outbound-http';
import { connect, KnexJobRepository, type Knex } from '@flink-orchestrator/postgres';
import {
  EVENTS_QUEUE,
  eventMessageId,
  pingRedis,
  redisConnection,
  type RedisClient,
} from '@flink-orchestrator/queue-bullmq';
import { Queue } from 'bullmq';
import { expect } from 'chai';
import { EventPipeline } from '../support/event-pipeline';
import { ownDatabase } from '../support/own-database';
import { TcpProxy } from '../support/tcp-proxy';
import { deleteRedisKeys, REDIS_PREFIX, REDIS_URL } from '../support/test-env';
import { waitFor } from '../support/wait';
import { WebhookReceiver } from '../support/webhook-receiver';

const BATCH = 5;

/**
 * Redis lost in the middle of the relay, on real PostgreSQL and a real Redis reached through a
 * proxy the test cuts: whatever the relay could not confirm is not marked relayed, whatever
 * Redis lost after the mark is relayed again once `resendAfterMs` passed, and every event
 * reaches the webhook exactly once, under its own id.
 */
describe('the relay with Redis lost midway (real PostgreSQL, real Redis behind a proxy)', function () {
  this.timeout(60_000);
  const receiver = new WebhookReceiver();
  const prefix = `${REDIS_PREFIX}-relay-lost`;
  const run = randomBytes(4).toString('hex');
  let own: Awaited<ReturnType<typeof ownDatabase>>;
  let db: Knex;
  let jobs: KnexJobRepository;
  let proxy: TcpProxy;
  let direct: RedisClient;
  /** The events queue seen past the proxy: what Redis really holds. */
  let events: Queue;
  let pipeline: EventPipeline | null = null;
  let created = 0;

  before(async () => {
    own = await ownDatabase('relay_lost');
    db = connect(own.url);
    jobs = new KnexJobRepository(db);
    const target = new URL(REDIS_URL);
    proxy = await new TcpProxy({ host: target.hostname, port: Number(target.port || 6379) }).start();
    direct = redisConnection(REDIS_URL, 'producer');
    events = new Queue(EVENTS_QUEUE, { connection: direct, prefix });
    await receiver.start();
    await db('webhooks').insert({ url: receiver.url, events: ['job.*'] });
  });
  afterEach(async () => {
    proxy.restore();
    await pipeline?.close();
    pipeline = null;
    await deleteRedisKeys(prefix);
  });
  after(async () => {
    await events.close();
    direct.disconnect();
    await proxy.stop();
    await receiver.stop();
    await db.destroy();
    await own.drop();
  });

  /** A batch of job.created events, each its own job's. */
  const newEvents = async (n: number) => {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const job = await jobs.create({
        name: `relay-lost-${run}-${++created}`,
        jarUrl: 'a.jar',
        entryClass: null,
        config: {},
        parallelism: null,
        enabled: true,
        cluster: DEFAULT_CLUSTER,
        admission: 'ignore',
      });
      const rows: { id: string }[] = await db('events').where({ job_id: job.id }).select('id');
      ids.push(String(rows[0]!.id));
    }
    return ids;
  };
  interface Marks {
    id: string;
    relayed_at: Date | null;
    published_at: Date | null;
  }
  const marks = async (ids: string[]): Promise<Marks[]> =>
    db('events').whereIn('id', ids).orderBy('id').select('id', 'relayed_at', 'published_at');
  /** How many requests each event made at the receiver, by the id it carried. */
  const receivedCounts = (ids: string[]) =>
    ids.map((id) => receiver.received.filter((r) => r.headers[WEBHOOK_HEADERS.id] === id).length);
  /** One delivery per event (one webhook), each DELIVERED: the receiver's answer recorded. */
  const allDelivered = async (ids: string[]) =>
    (await db('webhook_deliveries').whereIn('event_id', ids).andWhere({ status: 'DELIVERED' })).length === ids.length;
  const failureOf = (attempt: Promise<unknown>) =>
    attempt.then(
      () => null,
      (error: unknown) => error,
    );
  /** The whole pipeline's Redis through the proxy; a first relayed event loads BullMQ's scripts into Redis. */
  const pipelineThroughProxy = async () => {
    pipeline = new EventPipeline(db, { url: proxy.url, prefix });
    await pingRedis(pipeline.producer, 5000);
    const relay = pipeline.relay({ batchSize: BATCH, resendAfterMs: 60_000 });
    const [warm] = await newEvents(1);
    expect(await relay.run()).to.equal(1);
    return { relay, warm: warm! };
  };

  it('Redis took the batch but its answer never came: not marked relayed; relayed again after, each delivered once', async () => {
    const { relay, warm } = await pipelineThroughProxy();
    const batch = await newEvents(BATCH);

    proxy.deafen();
    const failure = await failureOf(relay.run());
    expect(failure, String(failure)).to.be.an.instanceOf(DependencyUnavailable);
    // The messages are in Redis; the relay never heard, so it marked nothing.
    for (const id of batch) expect(await events.getJob(eventMessageId(id)), `message of ${id}`).to.not.equal(undefined);
    expect((await marks(batch)).map((m) => m.relayed_at)).to.deep.equal(batch.map(() => null));

    proxy.restore();
    // Until the client has reconnected, a run fails as the one before did.
    const relayed = await waitFor('the relay to reach Redis again', async () => (await relay.run()) || undefined);
    expect(relayed).to.equal(BATCH);
    expect((await marks(batch)).every((m) => m.relayed_at !== null)).to.equal(true);
    // Sent twice under the same ids: one message each.
    const queued = (await events.getJobs(['waiting', 'delayed', 'active', 'completed'])).map((j) => j.id);
    expect(queued.sort()).to.deep.equal([warm, ...batch].map(eventMessageId).sort());

    pipeline!.startConsumers();
    const all = [warm, ...batch];
    await waitFor('every delivery DELIVERED', () => allDelivered(all));
    expect(receivedCounts(all), 'requests per event').to.deep.equal(all.map(() => 1));
    expect((await marks(all)).every((m) => m.published_at !== null)).to.equal(true);
  });

  it('Redis lost the messages after the relay marked them: relayed again once resendAfterMs passed, each delivered once', async () => {
    receiver.received = [];
    const { relay, warm } = await pipelineThroughProxy();
    const batch = await newEvents(BATCH);
    expect(await relay.run()).to.equal(BATCH);
    expect((await marks(batch)).every((m) => m.relayed_at !== null && m.published_at === null)).to.equal(true);

    // Redis goes, and comes back empty (a restart without persistence, a failover to an empty replica).
    proxy.deafen();
    expect(await deleteRedisKeys(prefix)).to.be.greaterThan(0);
    proxy.restore();
    pipeline!.startConsumers();

    // Within resendAfterMs, the relay trusts its mark.
    expect(await relay.run()).to.equal(0);
    // The minute passes (the marks a minute older): the lost events are relayed again.
    await db('events')
      .whereIn('id', [warm, ...batch])
      .whereNull('published_at')
      .update({ relayed_at: db.raw("relayed_at - interval '61 seconds'") });
    const resent = await waitFor('the relay to reach Redis again', async () => (await relay.run()) || undefined);
    expect(resent).to.equal(BATCH + 1);

    const all = [warm, ...batch];
    await waitFor('every delivery DELIVERED', () => allDelivered(all));
    expect(receivedCounts(all), 'requests per event').to.deep.equal(all.map(() => 1));
    for (const r of receiver.received) expect(JSON.parse(r.body).id).to.equal(r.headers[WEBHOOK_HEADERS.id]);
    await waitFor('every event published', async () => (await marks(all)).every((m) => m.published_at !== null));
    expect(await relay.run()).to.equal(0);
  });
});
