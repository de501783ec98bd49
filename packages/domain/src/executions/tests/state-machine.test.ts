import { expect } from 'chai';
import {
  ACTIVE_STATUSES,
  assertTransition,
  canTransition,
  endedStatusFor,
  EXECUTION_STATUSES,
  flinkJobIdFor,
  IllegalTransition,
  isTerminal,
  programArgsFrom,
  resolveJarUrl,
  savepointTriggerId,
  statusesLeadingTo,
  type ExecutionStatus,
} from '../..';

describe('the execution state machine', () => {
  const leadingTo: [ExecutionStatus, ExecutionStatus[]][] = [
    ['QUEUED', []],
    ['SUBMITTING', ['QUEUED']],
    ['RUNNING', ['SUBMITTING', 'STOPPING']],
    ['STOPPING', ['SUBMITTING', 'RUNNING']],
    ['STOPPED', ['STOPPING']],
    ['CANCELLED', ['QUEUED', 'SUBMITTING', 'RUNNING', 'STOPPING']],
    ['FAILED', ['QUEUED', 'SUBMITTING', 'RUNNING', 'STOPPING']],
    ['FINISHED', ['RUNNING', 'STOPPING']],
    ['LOST', ['SUBMITTING', 'RUNNING', 'STOPPING']],
    ['SKIPPED', []],
    ['MISSED', []],
  ];
  for (const [to, from] of leadingTo) {
    it(`statusesLeadingTo(${to}) is ${from.join(', ') || 'nothing'}`, () => {
      expect(statusesLeadingTo(to)).to.have.members(from).and.to.have.length(from.length);
    });
  }

  it('every status is in the table, and the terminal ones lead nowhere', () => {
    expect(leadingTo.map(([s]) => s)).to.have.members([...EXECUTION_STATUSES]);
    const terminal = EXECUTION_STATUSES.filter(isTerminal);
    expect(terminal).to.have.members(['FINISHED', 'FAILED', 'CANCELLED', 'STOPPED', 'LOST', 'SKIPPED', 'MISSED']);
    for (const from of terminal) for (const to of EXECUTION_STATUSES) expect(canTransition(from, to)).to.equal(false);
    expect(EXECUTION_STATUSES.filter((s) => !isTerminal(s))).to.have.members([...ACTIVE_STATUSES]);
  });

  it('assertTransition refuses an illegal move with both statuses named', () => {
    expect(() => assertTransition('QUEUED', 'RUNNING')).to.throw(IllegalTransition, /QUEUED.*RUNNING/);
    expect(() => assertTransition('RUNNING', 'STOPPING')).not.to.throw();
  });

  it("endedStatusFor maps Flink's globally terminal states, and nothing else", () => {
    expect(endedStatusFor('FINISHED')).to.equal('FINISHED');
    expect(endedStatusFor('FAILED')).to.equal('FAILED');
    expect(endedStatusFor('CANCELED')).to.equal('CANCELLED');
    for (const state of ['RUNNING', 'RESTARTING', 'FAILING', 'CANCELLING', 'SUSPENDED', 'CREATED', 'INITIALIZING'])
      expect(endedStatusFor(state), state).to.equal(null);
  });
});

describe('identifiers and arguments', () => {
  it('flinkJobIdFor is the UUID as 32 lower-case hex digits, and refuses anything else', () => {
    expect(flinkJobIdFor('0A1B2C3D-4E5F-4a6b-8c7d-9e0f1a2b3c4d')).to.equal('0a1b2c3d4e5f4a6b8c7d9e0f1a2b3c4d');
    expect(() => flinkJobIdFor('not-a-uuid')).to.throw(/not a UUID/);
  });

  it('savepointTriggerId is stable per stop request and differs between requests', () => {
    const job = 'a'.repeat(32);
    const at = new Date('2030-01-01T00:00:00.123Z');
    const id = savepointTriggerId(job, at);
    expect(id).to.match(/^[0-9a-f]{32}$/);
    expect(savepointTriggerId(job, new Date(at))).to.equal(id);
    expect(savepointTriggerId(job, new Date(at.getTime() + 1))).not.to.equal(id);
    expect(id.slice(0, 20)).to.equal(job.slice(0, 20));
  });

  it('programArgsFrom sorts keys and turns every value into a string', () => {
    expect(programArgsFrom({ b: 2, a: 'x y', c: true })).to.deep.equal(['--a', 'x y', '--b', '2', '--c', 'true']);
    expect(programArgsFrom({})).to.deep.equal([]);
  });

  it('resolveJarUrl keeps absolute URLs and resolves bare names against the data-processor', () => {
    expect(resolveJarUrl('https://jars.example/a.jar', 'http://dp:8080')).to.equal('https://jars.example/a.jar');
    expect(resolveJarUrl('my job.jar', 'http://dp:8080/files')).to.equal('http://dp:8080/files/my%20job.jar');
  });
});
