import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PermanentFailure, TransientFailure, type OrchestratorEvent } from '@flink-orchestrator/domain';
import { expect } from 'chai';
import {
  HttpWebhookSender,
  JarUrlPolicy,
  verifyWebhook,
  WEBHOOK_HEADERS,
  WebhookUrlPolicy,
  webhookSignature,
} from '../src';

/** Every address class the guard knows, as a URL host and as a DNS answer. */
const ADDRESSES = [
  '127.0.0.1',
  '10.0.0.7',
  '169.254.169.254', // cloud metadata
  '169.254.1.1', // link-local
  '0.0.0.0',
  '[::1]',
  '[fe80::1]',
  '[fd00:ec2::254]', // AWS metadata over IPv6
  'example.com',
];

const verdict = async (check: () => unknown): Promise<string> => {
  try {
    await check();
    return 'allowed';
  } catch (error) {
    return error instanceof PermanentFailure ? 'refused' : `error: ${String(error)}`;
  }
};

const EVENT: OrchestratorEvent = {
  id: '42',
  cursor: { tx: '1', id: '42' },
  type: 'execution.failed',
  occurredAt: new Date('2026-12-02T10:00:00Z'),
  jobId: null,
  executionId: null,
  payload: { error: 'boom' },
};

describe('outbound guard: one address set for JAR downloads and webhooks', () => {
  it('gives the same verdict for every URL and every resolved address, whichever it guards', async () => {
    for (const allowed of [[], ['127.0.0.1', 'example.com'], ADDRESSES.map((a) => a.replace(/^\[|\]$/g, ''))]) {
      const policies = [new JarUrlPolicy(allowed), new WebhookUrlPolicy(allowed)];
      for (const host of ADDRESSES) {
        const url = new URL(`http://${host}/x`);
        const [jar, webhook] = await Promise.all(policies.map((p) => verdict(() => p.checkUrl(url))));
        expect(webhook, `${host} with ${allowed.join(',')}`).to.equal(jar);
      }
      for (const address of ['169.254.169.254', '169.254.1.1', 'fe80::1', 'fd00:ec2::254', '0.0.0.0', '127.0.0.1']) {
        const [jar, webhook] = await Promise.all(policies.map((p) => verdict(() => p.lookup(address))));
        expect(webhook, `${address} resolved`).to.equal(jar);
        const metadata = address !== '127.0.0.1' && !allowed.includes(address);
        expect(webhook, address).to.equal(metadata ? 'refused' : 'allowed');
      }
    }
  });

  it('names what it guards and the setting that allows it', () => {
    expect(() => new WebhookUrlPolicy([]).checkUrl(new URL('http://10.0.0.7/'))).to.throw(
      'Webhook host "10.0.0.7" is not allowed (WEBHOOK_ALLOWED_HOSTS: empty).',
    );
    expect(() => new JarUrlPolicy(['a.example']).checkUrl(new URL('http://10.0.0.7/'))).to.throw(
      'JAR host "10.0.0.7" is not allowed (JAR_ALLOWED_HOSTS: a.example).',
    );
  });
});

describe('webhook sender', () => {
  let server: Server;
  let url = '';
  const seen: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];
  let answer: (res: ServerResponse) => void = (res) => res.writeHead(200).end();

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ headers: req.headers, body });
        answer(res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const sender = (timeoutMs = 2000) =>
    new HttpWebhookSender({ policy: new WebhookUrlPolicy(['127.0.0.1']), timeoutMs });

  it('POSTs the exact body with the id, type, timestamp and a signature the recipe verifies', async () => {
    const body = JSON.stringify({ id: '42', type: 'execution.failed' });
    const res = await sender().send({ url: `${url}/hook`, body, event: EVENT, secret: 'a-secret-of-16-chars' });
    expect(res.statusCode).to.equal(200);
    const got = seen[seen.length - 1]!;
    expect(got.body).to.equal(body);
    expect(got.headers[WEBHOOK_HEADERS.id]).to.equal('42');
    expect(got.headers[WEBHOOK_HEADERS.type]).to.equal('execution.failed');
    const timestamp = String(got.headers[WEBHOOK_HEADERS.timestamp]);
    expect(got.headers[WEBHOOK_HEADERS.signature]).to.equal(webhookSignature('a-secret-of-16-chars', timestamp, body));
    const headers = { timestamp, signature: String(got.headers[WEBHOOK_HEADERS.signature]) };
    expect(verifyWebhook('a-secret-of-16-chars', headers, body)).to.equal(true);
    expect(verifyWebhook('another-secret-16ch', headers, body)).to.equal(false);
    // Replayed ten minutes later: refused by the timestamp check.
    expect(verifyWebhook('a-secret-of-16-chars', headers, body, { nowSeconds: Number(timestamp) + 600 })).to.equal(
      false,
    );
  });

  it('reports any answer, throws transient when none comes, permanent when the guard refuses', async () => {
    answer = (res) => res.writeHead(500).end();
    expect((await sender().send({ url, body: '{}', event: EVENT, secret: null })).statusCode).to.equal(500);
    answer = () => undefined; // never answers
    const slow = await sender(300)
      .send({ url, body: '{}', event: EVENT, secret: null })
      .catch((e: unknown) => e);
    expect(slow).to.be.instanceOf(TransientFailure);
    expect((slow as Error).message).to.match(/did not answer within 300 ms/);
    answer = (res) => res.writeHead(302, { location: 'http://169.254.169.254/latest' }).end();
    const redirected = await sender()
      .send({ url, body: '{}', event: EVENT, secret: null })
      .catch((e: unknown) => e);
    expect(redirected).to.be.instanceOf(PermanentFailure);
    expect((redirected as Error).message).to.match(/Webhook host "169.254.169.254" is not allowed/);
    answer = (res) => res.writeHead(200).end();
  });
});
