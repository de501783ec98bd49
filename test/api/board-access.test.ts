import type { RunningApi } from '@flink-orchestrator/api';
import { expect } from 'chai';
import { startApi } from '../support/api-process';
import { REDIS_PREFIX, TEST_READ_TOKEN, TEST_TOKEN } from '../support/test-env';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('Bull Board access: who opens it, and changes only from its own pages', () => {
  let api: RunningApi;
  before(async () => {
    api = await startApi({
      QUEUE_PREFIX: `${REDIS_PREFIX}-board-access`,
      BOARD_USER: 'operator',
      BOARD_PASSWORD: 'board-password-1',
      BOARD_READ_ONLY: 'false',
    });
  });
  after(() => api.close());

  const get = (authorization?: string) =>
    fetch(`${api.url}/admin/queues/api/queues`, { headers: authorization ? { authorization } : {} });

  it('opens with BOARD_USER/BOARD_PASSWORD, or a write token as bearer or basic-auth password; not otherwise', async () => {
    expect((await get(basic('operator', 'board-password-1'))).status).to.equal(200);
    expect((await get(`Bearer ${TEST_TOKEN}`)).status).to.equal(200);
    expect((await get(basic('anyone', TEST_TOKEN))).status).to.equal(200);
    for (const refused of [undefined, `Bearer ${TEST_READ_TOKEN}`, basic('operator', 'nope'), 'Bearer wrong']) {
      const res = await get(refused);
      expect(res.status, String(refused)).to.equal(401);
      expect(res.headers.get('www-authenticate')).to.match(/^Basic/);
    }
  });

  it('a writable board refuses changes from another origin (CSRF), accepts them from its own', async () => {
    const resume = (headers: Record<string, string>) =>
      fetch(`${api.url}/admin/queues/api/queues/resume`, { method: 'PUT', headers });
    const auth = basic('operator', 'board-password-1');
    const crossSite = await resume({ authorization: auth, origin: 'https://evil.example' });
    expect(crossSite.status).to.equal(403);
    expect(((await crossSite.json()) as { error: { code: string } }).error.code).to.equal('forbidden');
    expect((await resume({ authorization: auth })).status, 'no Origin nor Referer').to.equal(403);
    expect((await resume({ authorization: auth, referer: 'https://evil.example/admin/queues' })).status).to.equal(403);
    expect((await resume({ authorization: auth, origin: api.url })).status).to.equal(200);
    expect((await resume({ authorization: auth, referer: `${api.url}/admin/queues` })).status).to.equal(200);
    // A bearer header is never sent by a browser on its own, so it needs no origin check.
    expect((await resume({ authorization: `Bearer ${TEST_TOKEN}` })).status).to.equal(200);
  });
});
