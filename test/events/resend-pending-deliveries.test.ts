import { randomBytes } from 'node:crypto';
import { DEFAULT_CLUSTER, ResendPendingDeliveries, type Clock } from '@flink-orchestrator/domain';
import { WEBHOOK_HEADERS } from '@flink-orchestrator/outbound-http';
import { systemClock } from '@flink-orchestrator/observability';
import { connect, KnexJobRepository, type Knex } from '@flink-orchestrator/postgres';
import { deliveryMessageId } from '@flink-orchestrator/queue-bullmq';
import { expect } from 'chai';
import { EventPipeline } from '../support/event-pipeline';
import { ownDatabase } from '../support/own-database';
import { deleteRedisKeys, REDIS_PREFIX, REDIS_URL } from '../support/test-env';
import { waitFor } from '../support/wait';
import { WebhookReceiver } from '../support/webhook-receiver';

const THRESHOLD_MS = 60_000;

/**
 * The sweep for deliveries whose queue message went with Redis, on real PostgreSQL and Redis:
 * a PENDING delivery older than the threshold is queued again and delivered once; a recent one,
 * one still queued and a DELIVERED one are left as they are.
 */
describe('ResendPendingDeliveries: a delivery whose message was lost is sent again (real PostgreSQL and Redis)', function () {
  this.timeout(60_000);
  const receiver = new WebhookReceiver();
  const prefix = `${REDIS_PREFIX}-resend`;
  let own: Awaited<ReturnType<typeof ownDatabase>>;
  let db: Knex;
  let pipeline: EventPipeline;
  let jobs: KnexJobRepository;

  before(async () => {
    own = await ownDatabase('resend');
    db = connect(own.url);
    pipeline = new EventPipeline(db, { url: REDIS_URL, prefix });
    jobs = new KnexJobRepository(db);
    await receiver.start();
  });
  after(async () => {
    await pipeline.close();
    await receiver.stop();
    await db.destroy();
    await own.drop();
  });

  const run = randomBytes(4).toString('hex');
  /** A job.created event of its own, and the webhook's delivery of it, made `ageMs` ago. */
  const deliveryOf = async (n: number, ageMs: number) => {
    const job = await jobs.create({
      name: `resend-${run}-${n}`,
      jarUrl: 'a.jar',
      entryClass: null,
      config: {},
      parallelism: null,
      enabled: true,
      cluster: DEFAULT_CLUSTER,
      admission: 'ignore',
    });
    const event = await db('events').where({ job_id: job.id, type: 'job.created' }).first('id');
    const [id] = await pipeline.webhooks.planDeliveries(String(event.id));
    await db('webhook_deliveries')
      .where({ id })
      .update({ created_at: db.raw('clock_timestamp() - make_interval(secs => ?)', [ageMs / 1000]) });
    return { id: id!, eventId: String(event.id) };
  };
  const messagesIn = async () =>
    (await pipeline.deliveries.queue.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed']))
      .map((j) => j.id)
      .sort();
  const sentFor = (eventId: string) => receiver.received.filter((r) => r.headers[WEBHOOK_HEADERS.id] === eventId);
  interface DeliveryState {
    status: string;
    attempts: number;
  }
  const statusOf = async (id: string): Promise<DeliveryState> => {
    const rows: DeliveryState[] = await db('webhook_deliveries').where({ id }).select('status', 'attempts');
    if (!rows[0]) throw new Error(`no delivery ${id}`);
    return rows[0];
  };

  it('sends the old PENDING delivery whose message was lost, once; leaves the recent, the queued and the DELIVERED ones', async () => {
    await pipeline.webhooks.create({
      url: receiver.url,
      events: ['job.created'],
      jobId: null,
      format: 'json',
      secret: null,
      enabled: true,
    });
    const lost = await deliveryOf(1, 5 * 60_000);
    const queued = await deliveryOf(2, 5 * 60_000);
    const recent = await deliveryOf(3, 1000);
    const delivered = await deliveryOf(4, 5 * 60_000);
    await db('webhook_deliveries')
      .where({ id: delivered.id })
      .update({ status: 'DELIVERED', delivered_at: new Date() });

    // The fan-out queued both; Redis then lost the first one's message.
    await pipeline.deliveries.enqueue([lost.id, queued.id]);
    await (await pipeline.deliveries.queue.getJob(deliveryMessageId(lost.id)))!.remove();
    expect(await messagesIn()).to.deep.equal([deliveryMessageId(queued.id)]);

    const resend = new ResendPendingDeliveries(pipeline.webhooks, pipeline.deliveries, systemClock);
    expect(await resend.run(THRESHOLD_MS)).to.equal(2); // the lost one and the one still queued
    expect(await messagesIn()).to.deep.equal([deliveryMessageId(lost.id), deliveryMessageId(queued.id)].sort());

    pipeline.startConsumers();
    await waitFor('the lost and the queued deliveries to be DELIVERED', async () => {
      const rows = await Promise.all([lost, queued].map((d) => statusOf(d.id)));
      return rows.every((r) => r.status === 'DELIVERED');
    });
    for (const d of [lost, queued]) {
      expect(sentFor(d.eventId), `requests for event ${d.eventId}`).to.have.length(1);
      expect(JSON.parse(sentFor(d.eventId)[0]!.body).id).to.equal(d.eventId);
      expect(await statusOf(d.id)).to.deep.equal({ status: 'DELIVERED', attempts: 1 });
    }
    expect(sentFor(recent.eventId)).to.deep.equal([]);
    expect(sentFor(delivered.eventId)).to.deep.equal([]);
    expect(await statusOf(recent.id)).to.deep.equal({ status: 'PENDING', attempts: 0 });

    // Swept again: nothing delivered goes again; the recent one is still within its threshold.
    expect(await resend.run(THRESHOLD_MS)).to.equal(0);

    // Past its threshold (the clock two minutes on), the recent one is sent, once.
    const later: Clock = { now: () => new Date(Date.now() + 2 * THRESHOLD_MS), sleep: systemClock.sleep };
    expect(await new ResendPendingDeliveries(pipeline.webhooks, pipeline.deliveries, later).run(THRESHOLD_MS)).to.equal(
      1,
    );
    await waitFor(
      'the recent delivery to be DELIVERED',
      async () => (await statusOf(recent.id)).status === 'DELIVERED',
    );
    expect(sentFor(recent.eventId)).to.have.length(1);
    expect(sentFor(delivered.eventId)).to.deep.equal([]);
    expect(receiver.received).to.have.length(3);
  });

  it('sends again every delivery still PENDING after Redis lost all of the prefix’s keys', async () => {
    await pipeline.stopConsumers();
    receiver.received = [];
    const lost = [await deliveryOf(5, 5 * 60_000), await deliveryOf(6, 5 * 60_000)];
    await pipeline.deliveries.enqueue(lost.map((d) => d.id));
    // Every key under the prefix gone (a flush, a failover to an empty replica).
    expect(await deleteRedisKeys(prefix)).to.be.greaterThan(0);
    expect(await messagesIn()).to.deep.equal([]);

    const resend = new ResendPendingDeliveries(pipeline.webhooks, pipeline.deliveries, systemClock);
    expect(await resend.run(THRESHOLD_MS)).to.equal(2);
    pipeline.startConsumers();
    await waitFor('both to be DELIVERED', async () =>
      (await Promise.all(lost.map((d) => statusOf(d.id)))).every((r) => r.status === 'DELIVERED'),
    );
    for (const d of lost) expect(sentFor(d.eventId), `requests for event ${d.eventId}`).to.have.length(1);
  });
});
