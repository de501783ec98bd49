import { verifyWebhook, WEBHOOK_HEADERS } from '@flink-orchestrator/outbound-http';
import { expect } from 'chai';
import { assertHarnessIntegrity } from '../support/integrity';
import { PipelineHarness } from '../support/pipeline-harness';
import { waitFor } from '../support/wait';
import { WebhookReceiver, type ReceivedDelivery } from '../support/webhook-receiver';
import {
  eachTrial,
  KILL_WORKER_ENV,
  killWorkersAndReplace,
  query,
  STREAMING,
  StageTimes,
  TRIALS,
} from './support/kill-trials';

const SECRET = 'whsec-kill-tests-0123456789';

/**
 * A webhook delivery crashed with real processes: the receiver has every trial's event and
 * holds its answer, the delivery is checked PENDING in PostgreSQL, the worker is SIGKILLed
 * and a new one started. The promise: at least once, every copy the same event (its id in
 * the header and the body, the same body, signed), and the delivery DELIVERED.
 */
describe(`fault: SIGKILL the worker delivering a webhook, ${TRIALS} deliveries`, function () {
  this.timeout(300_000);
  const receiver = new WebhookReceiver();
  const h = new PipelineHarness({ workers: 1, workerEnv: KILL_WORKER_ENV });
  before(async () => {
    await receiver.start();
    await h.start();
  });
  after(async () => {
    await h.stop();
    await receiver.stop();
  });
  afterEach(() => assertHarnessIntegrity(h));

  const times = new StageTimes();
  after(() => times.print('webhook kills'));

  const copiesOf = (eventId: string): ReceivedDelivery[] =>
    receiver.received.filter((r) => (JSON.parse(r.body) as { id: string }).id === eventId);

  it('killed after the receiver got every delivery, before its answer reached the worker', async () => {
    const mark = times.begin('delivered');
    const hook = await h.http.post('/api/v1/webhooks', { url: receiver.url, events: ['job.created'], secret: SECRET });
    expect(hook.status, JSON.stringify(hook.body)).to.equal(201);
    const answers = receiver.holdAnswers();
    try {
      // Each trial: a job created, whose job.created event the webhook wants.
      const jobs = await Promise.all(Array.from({ length: TRIALS }, () => h.createJob(STREAMING)));
      const received = await eachTrial(jobs, (job, n) =>
        waitFor(
          `trial ${n}: the receiver to get job ${job.id}'s event`,
          () =>
            receiver.received.find((r) => {
              const event = JSON.parse(r.body) as { type: string; jobId: string };
              return event.type === 'job.created' && event.jobId === job.id;
            }),
          60_000,
        ),
      );
      await waitFor('every answer to be held', () => answers.waiting() >= TRIALS);
      const eventIds = received.map((r) => (JSON.parse(r.body) as { id: string }).id);
      await eachTrial(eventIds, async (eventId, n) => {
        const rows = await query<{ status: string; delivered_at: Date | null }>(
          h.databaseUrl,
          'SELECT status, delivered_at FROM webhook_deliveries WHERE webhook_id = $1 AND event_id = $2',
          [hook.body.id, eventId],
        );
        expect(rows, `trial ${n}: delivery of event ${eventId}`).to.deep.equal([
          { status: 'PENDING', delivered_at: null },
        ]);
      });
      mark('held');
      await killWorkersAndReplace(h, { released: () => answers.release() });
      mark('replaced');
      await eachTrial(eventIds, async (eventId, n) => {
        const delivery = await waitFor(
          `trial ${n}: the delivery of event ${eventId} to be DELIVERED`,
          async () => {
            const rows = (await h.http.get(`/api/v1/webhooks/${hook.body.id}/deliveries?limit=500`)).body as any[];
            const row = rows.find((d) => d.eventId === eventId);
            return row?.status === 'PENDING' ? undefined : row;
          },
          60_000,
        );
        expect(delivery, `trial ${n}`).to.include({ status: 'DELIVERED', statusCode: 204 });
        const copies = copiesOf(eventId);
        // The first copy's answer reached nobody: the new worker sent it again, as the same event.
        expect(copies.length, `trial ${n}: copies of event ${eventId}`).to.be.at.least(2);
        for (const copy of copies) {
          expect(copy.headers[WEBHOOK_HEADERS.id], `trial ${n}: the event id header`).to.equal(eventId);
          expect(copy.body, `trial ${n}: the body of every copy`).to.equal(copies[0]?.body);
          const signed = {
            timestamp: String(copy.headers[WEBHOOK_HEADERS.timestamp]),
            signature: String(copy.headers[WEBHOOK_HEADERS.signature]),
          };
          expect(verifyWebhook(SECRET, signed, copy.body), `trial ${n}: signature`).to.equal(true);
        }
      });
      mark('settled');
    } finally {
      answers.release();
      await h.http.delete(`/api/v1/webhooks/${hook.body.id}`);
    }
  });
});
