import { randomBytes } from 'node:crypto';
import { DEFAULT_CLUSTER, TransientFailure, type Clock } from '@flink-orchestrator/domain';
import { connect, KnexJobRepository, type Knex } from '@flink-orchestrator/postgres';
import { expect } from 'chai';
import { EventPipeline } from '../support/event-pipeline';
import { ownDatabase } from '../support/own-database';
import { REDIS_PREFIX, REDIS_URL, testConfig } from '../support/test-env';
import { WebhookReceiver } from '../support/webhook-receiver';

/** Time that moves only when the test says. */
class ManualClock implements Clock {
  constructor(private at: Date) {}
  now(): Date {
    return new Date(this.at);
  }
  advance(ms: number): void {
    this.at = new Date(this.at.getTime() + ms);
  }
  sleep(ms: number): Promise<void> {
    this.advance(ms);
    return Promise.resolve();
  }
}

/**
 * A webhook that keeps failing for longer than WEBHOOK_RETRY_WINDOW_MS is disabled, saying
 * why, with a `webhook.disabled` event; its PENDING deliveries end FAILED and are not sent.
 * The domain's DeliverWebhook over the real PostgreSQL webhook repository and a real HTTP
 * receiver, with the time driven by a clock of the test's.
 */
describe('a webhook failing past its retry window is disabled (fake clock, real PostgreSQL)', () => {
  const windowMs = testConfig().webhooks.retryWindowMs;
  const receiver = new WebhookReceiver();
  const run = randomBytes(4).toString('hex');
  let own: Awaited<ReturnType<typeof ownDatabase>>;
  let db: Knex;
  let jobs: KnexJobRepository;
  let created = 0;

  before(async () => {
    own = await ownDatabase('disabled');
    db = connect(own.url);
    jobs = new KnexJobRepository(db);
    await receiver.start();
  });
  after(async () => {
    await receiver.stop();
    await db.destroy();
    await own.drop();
  });
  let opened: EventPipeline | null = null;
  beforeEach(() => {
    receiver.received = [];
    receiver.status = 500;
  });
  afterEach(async () => {
    await opened?.close();
    opened = null;
  });

  /** The clock starts at the database's now: a delivery's age is read against its created_at. */
  const setUp = async () => {
    const { rows } = await db.raw<{ rows: { now: Date }[] }>('SELECT clock_timestamp() AS now');
    const clock = new ManualClock(rows[0]!.now);
    const pipeline = new EventPipeline(db, { url: REDIS_URL, prefix: `${REDIS_PREFIX}-disabled` }, clock);
    opened = pipeline;
    const hook = await pipeline.webhooks.create({
      url: receiver.url,
      events: ['job.*'],
      jobId: null,
      format: 'json',
      secret: null,
      enabled: true,
    });
    return { clock, pipeline, hook, deliver: pipeline.deliverer(windowMs) };
  };
  /** A delivery of a new job.created event, made at the clock's now. */
  const deliveryFor = async (pipeline: EventPipeline, clock: ManualClock) => {
    const job = await jobs.create({
      name: `disabled-${run}-${++created}`,
      jarUrl: 'a.jar',
      entryClass: null,
      config: {},
      parallelism: null,
      enabled: true,
      cluster: DEFAULT_CLUSTER,
      admission: 'ignore',
    });
    const rows: { id: string }[] = await db('events').where({ job_id: job.id }).select('id');
    const [id] = await pipeline.webhooks.planDeliveries(String(rows[0]!.id));
    if (id) await db('webhook_deliveries').where({ id }).update({ created_at: clock.now() });
    return id!;
  };
  interface DeliveryRow {
    status: string;
    attempts: number;
    last_error: string | null;
  }
  const deliveryRow = async (id: string) => {
    const rows: DeliveryRow[] = await db('webhook_deliveries').where({ id }).select('status', 'attempts', 'last_error');
    return rows[0];
  };
  const retried = async (attempt: Promise<unknown>) => {
    const outcome = await attempt.then(
      (value) => value,
      (error: unknown) => error,
    );
    expect(outcome, 'an attempt to be tried again').to.be.an.instanceOf(TransientFailure);
  };

  it('disabled with its reason and a webhook.disabled event; its pending deliveries end FAILED and are not sent', async () => {
    const { clock, pipeline, hook, deliver } = await setUp();
    const failing = await deliveryFor(pipeline, clock);
    const waiting = await deliveryFor(pipeline, clock);
    const failingSince = clock.now();

    await retried(deliver.run(failing));
    expect((await pipeline.webhooks.get(hook.id))?.failingSince?.getTime()).to.equal(failingSince.getTime());
    clock.advance(windowMs / 2);
    await retried(deliver.run(failing));
    expect(await pipeline.webhooks.get(hook.id)).to.include({ enabled: true, disabledReason: null });

    clock.advance(windowMs / 2);
    expect(await deliver.run(failing)).to.equal('failed');
    const disabled = await pipeline.webhooks.get(hook.id);
    expect(disabled?.enabled).to.equal(false);
    expect(disabled?.disabledReason).to.equal(
      `Disabled at ${clock.now().toISOString()}: every delivery failed for ${Math.round((windowMs / 3600_000) * 10) / 10} h ` +
        `(since ${failingSince.toISOString()}); last error: The receiver answered HTTP 500.`,
    );
    expect(await deliveryRow(failing)).to.deep.include({ status: 'FAILED', attempts: 3 });
    expect(await deliveryRow(waiting)).to.deep.equal({
      status: 'FAILED',
      attempts: 0,
      last_error: 'The webhook was disabled.',
    });

    const told: { type: string; payload: Record<string, unknown> }[] = await db('events')
      .where({ type: 'webhook.disabled' })
      .select('type', 'payload');
    expect(told).to.deep.equal([
      {
        type: 'webhook.disabled',
        payload: { webhookId: hook.id, url: hook.url, reason: disabled?.disabledReason },
      },
    ]);

    // Its queued messages still come: nothing is sent.
    expect(await deliver.run(waiting)).to.equal('skipped');
    // A delivery planned just before the disable committed is failed without a request.
    const late: { id: string }[] = await db('webhook_deliveries')
      .insert({ webhook_id: hook.id, event_id: (await db('events').max('id as id').first())!.id })
      .returning('id');
    expect(await deliver.run(late[0]!.id)).to.equal('failed');
    expect(await deliveryRow(late[0]!.id)).to.deep.include({
      status: 'FAILED',
      last_error: 'The webhook is disabled.',
    });
    // And a later event plans no delivery for it.
    expect(await db('webhook_deliveries').where({ webhook_id: hook.id })).to.have.length(3);
    await deliveryFor(pipeline, clock);
    expect(await db('webhook_deliveries').where({ webhook_id: hook.id })).to.have.length(3);

    expect(receiver.received, 'only the three failed attempts reached the receiver').to.have.length(3);
  });

  it('a success within the window starts the count again: failing for the window in all, but not in a row, is not disabled', async () => {
    const { clock, pipeline, hook, deliver } = await setUp();
    await retried(deliver.run(await deliveryFor(pipeline, clock)));
    clock.advance(windowMs / 2);
    receiver.status = 204;
    expect(await deliver.run(await deliveryFor(pipeline, clock))).to.equal('delivered');
    expect((await pipeline.webhooks.get(hook.id))?.failingSince).to.equal(null);

    receiver.status = 500;
    clock.advance(windowMs / 2 + 1);
    const again = await deliveryFor(pipeline, clock);
    await retried(deliver.run(again));
    expect(await pipeline.webhooks.get(hook.id)).to.include({ enabled: true, disabledReason: null });
    expect((await pipeline.webhooks.get(hook.id))?.failingSince?.getTime()).to.equal(clock.now().getTime());
    expect(
      await db('events')
        .where({ type: 'webhook.disabled', job_id: null })
        .andWhereRaw("payload->>'webhookId' = ?", [hook.id]),
    ).to.deep.equal([]);
  });
});
