import { randomBytes } from 'node:crypto';
import { DEFAULT_CLUSTER, type NewWebhook } from '@flink-orchestrator/domain';
import { connect, KnexJobRepository, type Knex } from '@flink-orchestrator/postgres';
import { deliveryMessageId } from '@flink-orchestrator/queue-bullmq';
import { expect } from 'chai';
import { EventPipeline } from '../support/event-pipeline';
import { ownDatabase } from '../support/own-database';
import { REDIS_PREFIX, REDIS_URL } from '../support/test-env';

/**
 * An event's fan-out on real PostgreSQL and Redis: one delivery per webhook that wants it
 * (its patterns, its job filter, enabled), each queued under its own id, made once however
 * often the event's message comes; then the event is done.
 */
describe('FanOutEvent: one delivery per matching webhook, once (real PostgreSQL and Redis)', () => {
  const prefix = `${REDIS_PREFIX}-fan-out`;
  const run = randomBytes(4).toString('hex');
  let own: Awaited<ReturnType<typeof ownDatabase>>;
  let db: Knex;
  let pipeline: EventPipeline;
  let jobs: KnexJobRepository;
  let created = 0;

  before(async () => {
    own = await ownDatabase('fan_out');
    db = connect(own.url);
    pipeline = new EventPipeline(db, { url: REDIS_URL, prefix });
    jobs = new KnexJobRepository(db);
  });
  after(async () => {
    await pipeline.close();
    await db.destroy();
    await own.drop();
  });
  // Each test's webhooks are its own.
  afterEach(() => db('webhooks').delete());

  const newJob = () =>
    jobs.create({
      name: `fan-out-${run}-${++created}`,
      jarUrl: 'a.jar',
      entryClass: null,
      config: {},
      parallelism: null,
      enabled: true,
      cluster: DEFAULT_CLUSTER,
      admission: 'ignore',
    });
  const hook = (events: string[], more: Partial<NewWebhook> = {}) =>
    pipeline.webhooks.create({
      url: 'http://127.0.0.1:9/hook',
      events,
      jobId: null,
      format: 'json',
      secret: null,
      enabled: true,
      ...more,
    });
  const eventOf = async (jobId: string, type: string) =>
    String((await db('events').where({ job_id: jobId, type }).first('id')).id);
  const deliveriesOf = async (eventId: string) => {
    const rows: { id: string; webhook_id: string }[] = await db('webhook_deliveries')
      .where({ event_id: eventId })
      .orderBy('id')
      .select('id', 'webhook_id');
    return rows;
  };
  const queuedIds = async () =>
    (await pipeline.deliveries.queue.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed']))
      .map((j) => j.id)
      .sort();
  const publishedAt = async (eventId: string) => {
    const rows: { published_at: Date | null }[] = await db('events').where({ id: eventId }).select('published_at');
    return rows[0]?.published_at;
  };

  it('makes a delivery for each webhook whose patterns and job filter match, none for a disabled one, and marks the event published', async () => {
    const job = await newJob();
    const other = await newJob();
    const wanted = [
      await hook(['*']),
      await hook(['job.*']),
      await hook(['job.updated'], { jobId: job.id }),
      await hook(['schedule.*', 'job.updated']),
    ];
    const unwanted = [
      await hook(['job.created']),
      await hook(['execution.*']),
      await hook(['jobs.*']),
      await hook(['*'], { jobId: other.id }),
      await hook(['*'], { enabled: false }),
    ];
    // The event after its webhooks (one written when none wants it is stored already published).
    await jobs.update(job.id, { parallelism: 2 });
    const eventId = await eventOf(job.id, 'job.updated');
    expect(await publishedAt(eventId)).to.equal(null);

    expect(await pipeline.fanOut().run(eventId)).to.equal(wanted.length);
    const made = await deliveriesOf(eventId);
    expect(made.map((d) => d.webhook_id).sort()).to.deep.equal(wanted.map((w) => w.id).sort());
    expect(made.map((d) => d.webhook_id)).to.not.include.members(unwanted.map((w) => w.id));
    expect(await queuedIds()).to.deep.equal(made.map((d) => deliveryMessageId(d.id)).sort());
    expect(await publishedAt(eventId)).to.be.an.instanceOf(Date);
  });

  it('run again, or twice at once (a repeated message): no second delivery, no second message', async () => {
    await pipeline.deliveries.queue.obliterate({ force: true });
    const job = await newJob();
    const webhooks = [await hook(['job.*']), await hook(['*'], { jobId: job.id })];
    await jobs.update(job.id, { parallelism: 2 });
    const eventId = await eventOf(job.id, 'job.updated');
    const fanOut = pipeline.fanOut();

    const [a, b] = await Promise.all([fanOut.run(eventId), fanOut.run(eventId)]);
    expect(a + b, 'each delivery queued by either run').to.be.at.least(2);
    const made = await deliveriesOf(eventId);
    expect(made.map((d) => d.webhook_id).sort()).to.deep.equal(webhooks.map((w) => w.id).sort());

    // Later, a third time: the same two PENDING deliveries, queued under the same ids (one message each).
    expect(await fanOut.run(eventId)).to.equal(2);
    expect(await deliveriesOf(eventId)).to.deep.equal(made);
    expect(await queuedIds()).to.deep.equal(made.map((d) => deliveryMessageId(d.id)).sort());

    // Once delivered, a repeated message queues nothing.
    await db('webhook_deliveries').where({ event_id: eventId }).update({ status: 'DELIVERED' });
    await pipeline.deliveries.queue.obliterate({ force: true });
    expect(await fanOut.run(eventId)).to.equal(0);
    expect(await queuedIds()).to.deep.equal([]);
    expect(await deliveriesOf(eventId)).to.deep.equal(made);
  });

  it('an event whose only webhook was disabled before its fan-out: no delivery, and published all the same', async () => {
    const job = await newJob();
    await hook(['execution.*']);
    const wanting = await hook(['job.*']);
    await jobs.update(job.id, { parallelism: 2 });
    const eventId = await eventOf(job.id, 'job.updated');
    expect(await publishedAt(eventId)).to.equal(null);
    await pipeline.webhooks.update(wanting.id, { enabled: false });

    expect(await pipeline.fanOut().run(eventId)).to.equal(0);
    expect(await deliveriesOf(eventId)).to.deep.equal([]);
    expect(await publishedAt(eventId)).to.be.an.instanceOf(Date);
  });
});
