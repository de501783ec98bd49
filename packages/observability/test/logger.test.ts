import { Writable } from 'node:stream';
import { expect } from 'chai';
import { createLogger } from '../src';

/** A logger writing into a string, as configured for the processes. */
function capture() {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { log: createLogger({ level: 'debug', name: 'test' }, stream), text: () => text };
}

describe('log redaction of cluster credentials', () => {
  const SECRET = 'never-in-a-log-0123456789';

  it('masks auth objects, passwords, tokens and Authorization headers wherever they appear', () => {
    const { log, text } = capture();
    log.info({ auth: { type: 'bearer', token: SECRET } }, 'a cluster body');
    log.info({ cluster: { name: 'a', auth: { type: 'basic', username: 'u', password: SECRET } } }, 'a cluster');
    log.info({ body: { password: SECRET } }, 'a password');
    const axiosLike = Object.assign(new Error('Request failed'), {
      config: { url: '/jobs', headers: { Authorization: `Bearer ${SECRET}` } },
    });
    log.warn({ err: axiosLike }, 'a Flink call failed');
    log.warn({ err: new Error('wrapped', { cause: axiosLike }) }, 'a Flink call failed, wrapped');
    log.info({ request: { headers: { Authorization: `Basic ${SECRET}` } } }, 'a request');
    expect(text().split('\n').filter(Boolean)).to.have.length(6);
    expect(text()).not.to.contain(SECRET);
  });
});
