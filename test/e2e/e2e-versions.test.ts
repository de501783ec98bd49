import { expect } from 'chai';
import { e2eVersions } from './support/flink-cluster';

/** The suite proves both Flink lines, or fails: never quietly fewer. */
describe('the Flink versions the end-to-end suite runs against', () => {
  const both = 'FLINK_VERSION=1.20.5\nFLINK_VERSION_LATEST=2.3.0\n';

  it('both lines from .env, or exactly the ones FLINK_E2E_VERSIONS names', () => {
    expect(e2eVersions({}, () => both)).to.deep.equal(['1.20.5', '2.3.0']);
    expect(e2eVersions({ FLINK_E2E_VERSIONS: ' 1.20.5 ' }, () => both)).to.deep.equal(['1.20.5']);
  });

  it('a version missing from .env is an error, not a smaller suite', () => {
    expect(() => e2eVersions({}, () => 'FLINK_VERSION=1.20.5\n')).to.throw(/\.env names no FLINK_VERSION_LATEST/);
    expect(() => e2eVersions({}, () => 'FLINK_VERSION=\nFLINK_VERSION_LATEST=2.3.0\n')).to.throw(
      /\.env names no FLINK_VERSION\b/,
    );
  });

  it('something that is not a version is an error', () => {
    expect(() => e2eVersions({ FLINK_E2E_VERSIONS: 'latest' }, () => both)).to.throw(/not a Flink version/);
  });

  it("the repository's own .env names both", () => {
    expect(e2eVersions({})).to.have.length(2);
  });
});
