import { expect } from 'chai';
import { ConfigError, loadConfig } from '../src';

describe('Redis Cluster settings', () => {
  it('REDIS_CLUSTER_NODES gives the seed nodes and a hash-tag prefix by default', () => {
    const config = loadConfig({ REDIS_CLUSTER_NODES: '10.0.0.1:7000,redis-b:7001' });
    expect(config.redisClusterNodes).to.deep.equal([
      { host: '10.0.0.1', port: 7000 },
      { host: 'redis-b', port: 7001 },
    ]);
    expect(config.queuePrefix).to.equal('{flink-orchestrator}');
  });

  it('without it: one Redis, and the plain default prefix', () => {
    const config = loadConfig({});
    expect(config.redisClusterNodes).to.equal(null);
    expect(config.queuePrefix).to.equal('flink-orchestrator');
  });

  it('a prefix that is not a hash tag is refused on a cluster, saying why', () => {
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:7000', QUEUE_PREFIX: 'plain' }))
      .to.throw(ConfigError)
      .with.property('message')
      .that.matches(/QUEUE_PREFIX: must be a Redis hash tag .* one hash slot/);
  });

  it('a node list that is not host:port pairs is refused', () => {
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: 'redis-a,redis-b' })).to.throw(
      /REDIS_CLUSTER_NODES: must be a comma-separated list of host:port/,
    );
  });
});
