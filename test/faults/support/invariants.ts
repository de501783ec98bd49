import { expect } from 'chai';
import { assertHarnessIntegrity } from '../../support/integrity';
import type { PipelineHarness } from '../../support/pipeline-harness';

const ACTIVE = ['QUEUED', 'SUBMITTING', 'RUNNING', 'STOPPING'];

/** The Flink states an execution's status allows, once everything has settled. */
const AGREES: Record<string, (flinkState: string | undefined) => boolean> = {
  RUNNING: (s) => s === 'RUNNING' || s === 'RESTARTING',
  FINISHED: (s) => s === 'FINISHED',
  STOPPED: (s) => s === 'FINISHED',
  CANCELLED: (s) => s === undefined || s === 'CANCELED' || s === 'CANCELLING',
  FAILED: (s) => s === undefined || s === 'FAILED',
  LOST: (s) => s === undefined,
};

/**
 * The promises the fault suite checks after every fault: exactly once on Flink and no
 * orphan (test/support/integrity.ts: at most one accepted submission per execution, every
 * run request explained, every running Flink job owned by an active execution); and every
 * given execution settled and agreeing with what Flink says about its job.
 */
export async function checkInvariants(
  h: PipelineHarness,
  executionIds: string[],
  context?: string,
): Promise<Record<string, number>> {
  await assertHarnessIntegrity(h, context);
  const accepted = h.flink.submittedJobIds();
  const tally: Record<string, number> = {};
  for (const id of executionIds) {
    const e = (await h.http.get(`/api/v1/executions/${id}`)).body;
    tally[e.status] = (tally[e.status] ?? 0) + 1;
    expect(
      ACTIVE.filter((s) => s !== 'RUNNING'),
      `execution ${id} still ${e.status}${context ? ` (${context})` : ''}`,
    ).not.to.include(e.status);
    const flinkState = e.flinkJobId ? h.flink.job(e.flinkJobId)?.state : undefined;
    const agrees = AGREES[e.status];
    if (agrees)
      expect(agrees(flinkState), `execution ${id} is ${e.status} but Flink says ${flinkState}`).to.equal(true);
    // A JobID the dispatcher accepted twice is caught by the integrity check; this also
    // counts acceptances before a simulated JobManager restart, which made the id reusable.
    const times = accepted.filter((j) => j === e.flinkJobId).length;
    expect(times, `execution ${id} was accepted ${times} times by Flink`).to.be.at.most(1);
  }
  return tally;
}
