import { expect } from 'chai';
import {
  DeliverWebhook,
  describeEvent,
  EVENT_TYPES,
  eventPatternMatches,
  isEventPattern,
  PermanentFailure,
  RelayEvents,
  TransientFailure,
  type AttemptResult,
  type DeliveryTarget,
  type EventBus,
  type EventOutbox,
  type OrchestratorEvent,
  type PendingEvent,
  type WebhookRepository,
  type WebhookResponse,
} from '../src';
import { FakeClock, silentLog } from './fakes';

const HOUR = 3600_000;

const event = (id: string, type = 'execution.failed'): OrchestratorEvent => ({
  id,
  cursor: { tx: '1', id },
  type,
  occurredAt: new Date('2030-01-01T00:00:00Z'),
  jobId: 'j1',
  executionId: 'e1',
  payload: { jobName: 'nightly', error: 'boom', trigger: 'schedule' },
});

/** One delivery of one webhook, kept the way the repository keeps it. */
class OneDelivery implements Pick<WebhookRepository, 'target' | 'recordSuccess' | 'recordFailure' | 'disable'> {
  target$: DeliveryTarget;
  disabledWith: string | null = null;

  constructor(createdAt: Date) {
    this.target$ = {
      delivery: {
        id: 'd1',
        webhookId: 'w1',
        eventId: '1',
        eventType: 'execution.failed',
        status: 'PENDING',
        attempts: 0,
        statusCode: null,
        durationMs: null,
        lastError: null,
        createdAt,
        lastAttemptAt: null,
        deliveredAt: null,
      },
      webhook: {
        id: 'w1',
        url: 'https://hooks.example/x',
        format: 'json',
        secret: null,
        enabled: true,
        failingSince: null,
      },
      event: event('1'),
    };
  }

  target() {
    return Promise.resolve(structuredClone(this.target$));
  }
  recordSuccess(_id: string, r: AttemptResult) {
    Object.assign(this.target$.delivery, {
      status: 'DELIVERED',
      attempts: this.target$.delivery.attempts + 1,
      statusCode: r.statusCode,
    });
    this.target$.webhook.failingSince = null;
    return Promise.resolve();
  }
  async recordFailure(_id: string, r: AttemptResult, final: boolean) {
    Object.assign(this.target$.delivery, {
      status: final ? 'FAILED' : 'PENDING',
      attempts: this.target$.delivery.attempts + 1,
      lastError: r.error,
    });
    this.target$.webhook.failingSince ??= r.at;
    return Promise.resolve();
  }
  disable(_id: string, reason: string) {
    this.target$.webhook.enabled = false;
    this.disabledWith = reason;
    if (this.target$.delivery.status === 'PENDING') this.target$.delivery.status = 'FAILED';
    return Promise.resolve();
  }
}

function deliverer(repo: OneDelivery, clock: FakeClock, answer: () => Promise<WebhookResponse>) {
  return new DeliverWebhook({
    webhooks: repo as unknown as WebhookRepository,
    sender: { send: answer },
    clock,
    log: silentLog,
    settings: { retryWindowMs: 24 * HOUR },
  });
}

describe('events', () => {
  it('patterns: a type, a group, or everything; nothing else is a pattern', () => {
    expect(eventPatternMatches('execution.*', 'execution.failed')).to.equal(true);
    expect(eventPatternMatches('execution.*', 'tick.missed')).to.equal(false);
    expect(eventPatternMatches('*', 'tick.missed')).to.equal(true);
    expect(eventPatternMatches('tick.missed', 'tick.missed')).to.equal(true);
    for (const good of ['*', 'execution.*', 'tick.*', ...EVENT_TYPES])
      expect(isEventPattern(good), good).to.equal(true);
    for (const bad of ['', 'execution', 'execution.bogus', 'bogus.*', '*.failed', 'execution.**'])
      expect(isEventPattern(bad), bad).to.equal(false);
  });

  it('says in one line what happened, for a chat channel', () => {
    expect(describeEvent(event('1'))).to.equal('job *nightly*: execution e1 FAILED (schedule): boom');
    const missed = {
      ...event('2', 'tick.missed'),
      payload: { jobName: 'nightly', action: 'start', scheduledFor: '2030-01-01T00:00:00Z', detail: 'no worker' },
    };
    expect(describeEvent(missed)).to.equal(
      'job *nightly*: the start tick due at 2030-01-01T00:00:00Z was missed: no worker',
    );
  });

  it('the relay publishes what a webhook wants before marking it, and marks the rest done without a message', async () => {
    const calls: string[] = [];
    let pending: PendingEvent[] = [
      { event: event('1'), wanted: true },
      { event: event('2', 'job.updated'), wanted: false },
    ];
    const done = (call: string) => Promise.resolve(void calls.push(call));
    const outbox = {
      pending: () => {
        const batch = pending;
        pending = [];
        return Promise.resolve(batch);
      },
      markRelayed: (ids: readonly string[]) => done(`relayed ${ids.join(',')}`),
      markPublished: (ids: readonly string[]) => done(`published ${ids.join(',')}`),
    } as unknown as EventOutbox;
    const bus: EventBus = { publish: (events) => done(`publish ${events.map((e) => e.id).join(',')}`) };
    expect(await new RelayEvents(outbox, bus, { batchSize: 2, resendAfterMs: 60_000 }).run()).to.equal(2);
    expect(calls).to.deep.equal(['publish 1', 'relayed 1', 'published 2']);
  });

  it('a relay whose publish fails marks nothing: the event stays pending and reaches the bus once it works', async () => {
    // The outbox as the table keeps it: an event is pending until it is marked.
    const state = new Map<string, 'pending' | 'relayed' | 'published'>([
      ['1', 'pending'],
      ['2', 'pending'],
    ]);
    const mark = (to: 'relayed' | 'published') => (ids: readonly string[]) =>
      Promise.resolve(ids.forEach((id) => state.set(id, to)));
    const outbox = {
      pending: (limit: number) =>
        Promise.resolve(
          [...state]
            .filter(([, s]) => s === 'pending')
            .slice(0, limit)
            .map(([id]) => ({ event: event(id), wanted: true })),
        ),
      markRelayed: mark('relayed'),
      markPublished: mark('published'),
    } as unknown as EventOutbox;
    const received: string[] = [];
    let down = true;
    const bus: EventBus = {
      publish: (events) => {
        if (down) return Promise.reject(new TransientFailure('redis down'));
        received.push(...events.map((e) => e.id));
        return Promise.resolve();
      },
    };
    const relay = new RelayEvents(outbox, bus, { batchSize: 10, resendAfterMs: 60_000 });

    // The failure reaches the caller (the relay's job retries), and nothing was marked.
    expect(await relay.run().catch((e: unknown) => e)).to.be.instanceOf(TransientFailure);
    expect([...state.values()]).to.deep.equal(['pending', 'pending']);
    expect(received).to.deep.equal([]);

    down = false;
    expect(await relay.run()).to.equal(2);
    expect(received).to.deep.equal(['1', '2']);
    expect([...state.values()]).to.deep.equal(['relayed', 'relayed']);
    // Drained: a further pass sends nothing twice.
    expect(await relay.run()).to.equal(0);
    expect(received).to.deep.equal(['1', '2']);
  });
});

describe('webhook deliveries', () => {
  it('a 2xx answer delivers; any other is retried (thrown transient) with the reason recorded', async () => {
    const clock = new FakeClock();
    const repo = new OneDelivery(clock.now());
    let status = 503;
    const deliver = deliverer(repo, clock, () => Promise.resolve({ statusCode: status, durationMs: 5 }));
    const error = await deliver.run('d1').catch((e: unknown) => e);
    expect(error).to.be.instanceOf(TransientFailure);
    expect(repo.target$.delivery).to.include({
      status: 'PENDING',
      attempts: 1,
      lastError: 'The receiver answered HTTP 503.',
    });
    expect(repo.target$.webhook.failingSince).to.deep.equal(clock.now());
    status = 204;
    clock.advance(1000);
    expect(await deliver.run('d1')).to.equal('delivered');
    expect(repo.target$.delivery.status).to.equal('DELIVERED');
    expect(repo.target$.webhook.failingSince).to.equal(null);
    expect(await deliver.run('d1')).to.equal('skipped'); // a repeated message sends nothing twice
  });

  it('gives a delivery up past the retry window, and disables a webhook failing that long, saying why', async () => {
    const clock = new FakeClock();
    const repo = new OneDelivery(clock.now());
    const deliver = deliverer(repo, clock, () => Promise.reject(new TransientFailure('connect ECONNREFUSED')));
    await deliver.run('d1').catch(() => undefined);
    clock.advance(23 * HOUR);
    await deliver.run('d1').catch(() => undefined);
    expect(repo.target$.webhook.enabled).to.equal(true);
    clock.advance(HOUR);
    expect(await deliver.run('d1')).to.equal('failed');
    expect(repo.target$.delivery.status).to.equal('FAILED');
    expect(repo.target$.webhook.enabled).to.equal(false);
    expect(repo.disabledWith).to.match(/every delivery failed for 24 h .*last error: connect ECONNREFUSED/);
  });

  it('a URL the guard refuses fails the delivery at once; a disabled webhook sends nothing', async () => {
    const clock = new FakeClock();
    const refused = new OneDelivery(clock.now());
    const outcome = await deliverer(refused, clock, () => Promise.reject(new PermanentFailure('not allowed'))).run(
      'd1',
    );
    expect(outcome).to.equal('failed');
    expect(refused.target$.delivery).to.include({ status: 'FAILED', lastError: 'not allowed' });
    const disabled = new OneDelivery(clock.now());
    disabled.target$.webhook.enabled = false;
    let sent = 0;
    await deliverer(disabled, clock, () => Promise.resolve({ statusCode: 200 + 0 * sent++, durationMs: 1 })).run('d1');
    expect(sent).to.equal(0);
    expect(disabled.target$.delivery.status).to.equal('FAILED');
  });
});
