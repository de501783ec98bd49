import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { DATA_ROOT, FLINK_CONFIG, readFlinkConfig, REPO_ROOT } from './support/flink-config';

interface Service {
  entrypoint?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
}

/**
 * The compose stack is never run here (no Docker engine): what can be checked without one is
 * that it runs Flink with the same flink/config.yaml the local cluster is checked against
 * (flink-gateway-contract.test.ts), on a volume the flink user owns.
 */
describe('docker-compose.yml runs Flink with flink/config.yaml', () => {
  const compose = parse(readFileSync(path.join(REPO_ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
    services: Record<string, Service>;
  };
  const config = readFlinkConfig();
  const flinkServices = ['flink-jobmanager', 'flink-taskmanager'];
  // The directories the file names on the volume: file:///flink-data/x and /flink-data/x.
  const dataDirs = [...config.values()]
    .map((value) => value.replace(/^file:\/\//, ''))
    .filter((value) => value.startsWith(`${DATA_ROOT}/`));

  it('names its directories on the volume, savepoints and checkpoints among them', () => {
    expect(dataDirs).to.include.members([`${DATA_ROOT}/checkpoints`, `${DATA_ROOT}/savepoints`, `${DATA_ROOT}/jars`]);
  });

  for (const name of flinkServices) {
    describe(name, () => {
      const service = () => compose.services[name] ?? {};
      const mountOfConfig = () => {
        const mount = (service().volumes ?? [])
          .map((v) => v.split(':'))
          .find(([source]) => source && path.resolve(REPO_ROOT, source) === FLINK_CONFIG);
        if (!mount) throw new Error(`${name} mounts no ./flink/config.yaml`);
        return mount;
      };
      const script = () => (service().entrypoint ?? []).join('\n');

      it("mounts the repository file read-only and installs it as Flink's config before the image's entrypoint", () => {
        const [, target, mode] = mountOfConfig();
        expect(mode).to.equal('ro');
        const install = script().indexOf(`install -o flink -g flink -m 0644 ${target} `);
        expect(install, script()).to.be.greaterThan(-1);
        expect(script().indexOf('exec /docker-entrypoint.sh')).to.be.greaterThan(install);
        // config.yaml is the file 1.19+ and 2.x read; flink-conf.yaml only where an image has one.
        expect(script()).to.match(/conf="\$\$FLINK_HOME\/conf\/config\.yaml"/);
      });

      it("mounts the volume at /flink-data and makes the file's directories the flink user's", () => {
        expect(service().volumes).to.include(`flink-data:${DATA_ROOT}`);
        const chown = script()
          .split('\n')
          .find((line) => line.startsWith('chown flink:flink '));
        expect(chown?.split(' ').slice(2), script()).to.include.members([DATA_ROOT, ...dataDirs]);
      });

      it("overrides none of its settings: FLINK_PROPERTIES holds only what is this network's own", () => {
        const properties = (service().environment?.FLINK_PROPERTIES ?? '')
          .split('\n')
          .map((line) => line.split(':')[0]?.trim() ?? '')
          .filter((key) => key !== '');
        expect(properties).to.include('jobmanager.rpc.address');
        for (const key of properties) expect(config.has(key), `${key} is in flink/config.yaml`).to.equal(false);
      });
    });
  }

  it("gives the orchestrator the file's savepoint directory", () => {
    for (const name of ['api', 'worker']) {
      expect(compose.services[name]?.environment?.SAVEPOINT_DIR, name).to.equal(
        config.get('execution.checkpointing.savepoint-dir'),
      );
    }
  });
});
