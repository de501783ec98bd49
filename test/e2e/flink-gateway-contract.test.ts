import path from 'node:path';
import { FlinkRestClient } from '@flink-orchestrator/flink-rest';
import { flinkGatewayContract, localJar } from '../../packages/flink-rest/test/flink-gateway-contract';
import { expect } from 'chai';
import { e2eVersions, startFlink } from './support/flink-cluster';
import { configForCluster, readFlinkConfig, runningConfig } from './support/flink-config';

const versions = e2eVersions();

/** The contract the test double passes in the fast suite, held against the real thing. */
for (const version of versions) {
  describe(`FlinkGateway contract against a real Flink ${version}`, function () {
    this.timeout(300_000);
    let flink: Awaited<ReturnType<typeof startFlink>>;
    let client: FlinkRestClient;
    before(async function () {
      this.timeout(900_000);
      flink = await startFlink(version);
      client = new FlinkRestClient({ baseUrl: `${flink.url}/v1` });
    });
    after(async function () {
      this.timeout(120_000);
      await flink?.stop();
    });

    // flink/config.yaml is what the cluster runs with (the compose stack mounts the same file).
    it("runs with the repository's flink/config.yaml: checkpoints, savepoints and uploads where it says", async () => {
      const expected = configForCluster(readFlinkConfig(), flink.dir);
      const running = await runningConfig(flink.url);
      for (const [key, value] of expected) expect(running.get(key), key).to.equal(value);
      // What restarts and uploads need, by name: a setting the file lost would pass the loop.
      expect(running.get('execution.checkpointing.dir')).to.equal(`file://${flink.dir}/checkpoints`);
      expect(running.get('execution.checkpointing.savepoint-dir')).to.equal(`file://${flink.dir}/savepoints`);
      expect(running.get('execution.checkpointing.externalized-checkpoint-retention')).to.equal(
        'RETAIN_ON_CANCELLATION',
      );
      expect(running.get('execution.checkpointing.interval')).to.equal('2s');
      expect(running.get('web.upload.dir')).to.equal(`${flink.dir}/jars`);
    });

    flinkGatewayContract(() => ({
      gateway: () => client,
      restUrl: () => flink.url,
      streamingJar: () => localJar(path.join(flink.examples, 'TopSpeedWindowing.jar'), 'TopSpeedWindowing.jar'),
    }));
  });
}
