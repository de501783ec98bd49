import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { PermanentFailure, TransientFailure } from '@flink-orchestrator/domain';
import { expect } from 'chai';
import { HttpJarSource, JarUrlPolicy } from '../src';
import { DataProcessor } from '../../../test/support/data-processor';

const zip = (size: number) => Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(size - 4, 7)]);

describe('HttpJarSource (streamed download, size limit, SSRF policy)', () => {
  const data = new DataProcessor();
  before(() => data.start());
  after(() => data.stop());

  const source = (options: Partial<ConstructorParameters<typeof HttpJarSource>[0]> = {}) =>
    new HttpJarSource({ maxBytes: 1024 * 1024, timeoutMs: 5000, policy: new JarUrlPolicy(['127.0.0.1']), ...options });

  async function failure(promise: Promise<unknown>): Promise<Error> {
    try {
      await promise;
    } catch (error) {
      return error as Error;
    }
    throw new Error('expected a failure');
  }

  it('streams a JAR to a spool file with its size and SHA-256, and disposes of it', async () => {
    const bytes = zip(300_000);
    const url = data.serveJar('/jars/app.jar', bytes, { chunkDelayMs: 1 });
    const jar = await source().fetch(url);
    expect(jar.size).to.equal(bytes.length);
    expect(jar.sha256).to.equal(createHash('sha256').update(bytes).digest('hex'));
    expect(jar.fileName).to.equal('app.jar');
    expect(existsSync(jar.path)).to.equal(true);
    await jar.dispose();
    expect(existsSync(jar.path)).to.equal(false);
  });

  it('keeps a strong ETag; with it, an unchanged JAR answers not-modified without a byte downloaded', async () => {
    const url = data.serveJar('/jars/tagged.jar', zip(1000), { etag: '"v1"' });
    const jar = await source().fetch(url);
    await jar.dispose();
    expect(jar.etag).to.equal('"v1"');
    expect(await source().fetch(url, '"v1"')).to.equal('not-modified');
    const changed = await source().fetch(url, '"v0"');
    expect(changed).to.not.equal('not-modified');
    if (changed !== 'not-modified') await changed.dispose();
    expect(data.downloads.get('/jars/tagged.jar')).to.equal(2);
  });

  it('ignores a weak ETag: it promises equivalent content, not the same bytes', async () => {
    const url = data.serveJar('/jars/weak.jar', zip(1000), { etag: 'W/"v1"' });
    const jar = await source().fetch(url);
    await jar.dispose();
    expect(jar.etag).to.equal(null);
  });

  it('404 → permanent, naming what the data-processor answered', async () => {
    const error = await failure(source().fetch(data.urlOf('/jars/none.jar')));
    expect(error).to.be.instanceOf(PermanentFailure);
    expect(error.message).to.match(/answered HTTP 404 Not Found/);
  });

  it('503 → transient', async () => {
    const url = data.route('/jars/busy.jar', (_req, res) => void res.writeHead(503).end());
    expect(await failure(source().fetch(url))).to.be.instanceOf(TransientFailure);
  });

  it('over JAR_MAX_BYTES → permanent, whether declared or streamed', async () => {
    const url = data.serveJar('/jars/big.jar', zip(2 * 1024 * 1024));
    const error = await failure(source().fetch(url));
    expect(error).to.be.instanceOf(PermanentFailure);
    expect(error.message).to.match(/over the 1048576-byte limit/);
    const chunked = data.route('/jars/chunked.jar', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/java-archive' });
      const body = zip(2 * 1024 * 1024);
      res.end(body);
    });
    expect((await failure(source({ maxBytes: 1000 }).fetch(chunked))).message).to.match(/limit/);
  });

  it('a non-JAR answer → permanent', async () => {
    const url = data.route(
      '/jars/login.jar',
      (_req, res) => void res.writeHead(200, { 'content-type': 'text/html' }).end('<html>'),
    );
    const error = await failure(source().fetch(url));
    expect(error).to.be.instanceOf(PermanentFailure);
    expect(error.message).to.match(/did not answer with a JAR \(content-type "text\/html"/);
  });

  it('a slow answer → transient timeout', async () => {
    const url = data.serveJar('/jars/slow.jar', zip(1000), { delayMs: 2000 });
    const error = await failure(source({ timeoutMs: 300 }).fetch(url));
    expect(error).to.be.instanceOf(TransientFailure);
    expect(error.message).to.match(/took longer than 300 ms/);
  });

  it('refuses hosts outside JAR_ALLOWED_HOSTS, metadata addresses, and redirects to them', async () => {
    const port = new URL(data.url).port;
    expect((await failure(source().fetch(`http://localhost:${port}/jars/app.jar`))).message).to.match(
      /JAR host "localhost" is not allowed/,
    );
    const metadata = await failure(
      source({ policy: new JarUrlPolicy(['127.0.0.1', 'metadata.internal']) }).fetch(
        'http://169.254.169.254/latest/meta-data.jar',
      ),
    );
    expect(metadata.message).to.match(/not allowed/);
    const redirect = data.route(
      '/jars/redirect.jar',
      (_req, res) => void res.writeHead(302, { location: 'http://169.254.169.254/x.jar' }).end(),
    );
    const error = await failure(source().fetch(redirect));
    expect(error).to.be.instanceOf(PermanentFailure);
    expect(error.message).to.match(/JAR host "169.254.169.254" is not allowed/);
    expect((await failure(source().fetch('file:///etc/passwd'))).message).to.match(/scheme "file:" is not allowed/);
  });

  it('checks resolved addresses: link-local and metadata ones are refused unless listed themselves', async () => {
    const policy = new JarUrlPolicy(['169.254.169.254.nip.test', 'localhost']);
    expect(() => policy.checkUrl(new URL('http://169.254.169.254/'))).to.throw(/not allowed/);
    expect(() => policy.checkUrl(new URL('http://[fe80::1]/'))).to.throw(/not allowed/);
    const loopback = await policy.lookup('localhost');
    expect(loopback[0].map((a) => a.address)).to.include.oneOf(['127.0.0.1', '::1']);
    const listed = new JarUrlPolicy(['169.254.169.254']);
    expect(() => listed.checkUrl(new URL('http://169.254.169.254/x.jar'))).not.to.throw();
  });
});
