import path from 'node:path';
import { FlinkRestClient } from '@flink-orchestrator/flink-rest';
import { flinkGatewayContract, localJar } from '../../packages/flink-rest/test/flink-gateway-contract';
import { e2eVersions, startFlink } from './support/flink-cluster';

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

    flinkGatewayContract(() => ({
      gateway: () => client,
      restUrl: () => flink.url,
      streamingJar: () => localJar(path.join(flink.examples, 'TopSpeedWindowing.jar'), 'TopSpeedWindowing.jar'),
    }));
  });
}
