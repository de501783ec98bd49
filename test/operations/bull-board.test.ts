import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { RunningApi } from '@flink-orchestrator/api';
import { expect } from 'chai';
import { chromium, type Browser } from 'playwright-core';
import { startApi } from '../support/api-process';
import { client } from '../support/http';
import { REDIS_PREFIX } from '../support/test-env';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = path.resolve(__dirname, '../../test-artifacts');

describe('Bull Board in a real headless browser', function () {
  this.timeout(90_000);
  let api: RunningApi;
  let browser: Browser;

  before(async function () {
    if (!existsSync(CHROMIUM))
      throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install chromium (.ci/run does)`);
    // A queue no worker consumes, so the job the API enqueues stays visible as waiting.
    api = await startApi({
      QUEUE_PREFIX: `${REDIS_PREFIX}-board`,
      BOARD_USER: 'operator',
      BOARD_PASSWORD: 'board-password-1',
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  after(async () => {
    await browser?.close();
    await api?.close();
  });

  it('is closed without credentials and read-only with them', async () => {
    const anonymous = await fetch(`${api.url}/admin/queues`);
    expect(anonymous.status).to.equal(401);
    expect(anonymous.headers.get('www-authenticate')).to.match(/^Basic/);
    const wrong = await fetch(`${api.url}/admin/queues`, {
      headers: { authorization: `Basic ${Buffer.from('operator:nope').toString('base64')}` },
    });
    expect(wrong.status).to.equal(401);
    const queues = await fetch(`${api.url}/admin/queues/api/queues`, {
      headers: { authorization: `Basic ${Buffer.from('operator:board-password-1').toString('base64')}` },
    });
    const body = (await queues.json()) as { queues: { name: string; readOnlyMode: boolean }[] };
    expect(body.queues.map((q) => q.name).sort()).to.deep.equal([
      'events',
      'executions',
      'schedules',
      'webhook-deliveries',
    ]);
    expect(body.queues.every((q) => q.readOnlyMode)).to.equal(true);
  });

  it('renders the queues and shows a job that the API enqueued', async () => {
    const http = client(api.url);
    const job = await http.post('/api/v1/jobs', { name: `board-${Date.now()}`, jarURL: 'app.jar' });
    const execution = await http.post(`/api/v1/jobs/${job.body.id}/start`);
    expect(execution.status).to.equal(202);

    const context = await browser.newContext({
      httpCredentials: { username: 'operator', password: 'board-password-1' },
    });
    const page = await context.newPage();
    await page.goto(`${api.url}/admin/queues`);
    await page.getByText('executions', { exact: false }).first().waitFor({ timeout: 20_000 });
    await page.getByText('schedules', { exact: false }).first().waitFor({ timeout: 20_000 });
    await page.goto(`${api.url}/admin/queues/queue/executions?status=waiting`);
    const jobId = `submit-${execution.body.id}`;
    await page.getByText(jobId, { exact: false }).first().waitFor({ timeout: 20_000 });
    mkdirSync(ARTIFACTS, { recursive: true });
    const screenshot = path.join(ARTIFACTS, 'bull-board.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    expect(statSync(screenshot).size).to.be.greaterThan(10_000);
    await context.close();
  });
});
