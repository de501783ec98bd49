import { expect } from 'chai';
import { EnsureJarOnFlink, SubmitToFlink, type AdmissionMode } from '../..';
import { MemoryJarRegistry, oneJar, SUBMIT_SETTINGS, world } from '../../testing/fakes';

function setup() {
  const w = world();
  const submit = new SubmitToFlink({
    ...w,
    jars: new EnsureJarOnFlink(oneJar(), new MemoryJarRegistry(), w.log),
    settings: SUBMIT_SETTINGS,
  });
  // The observer read 4 slots in all, `free` of them free, just now.
  const slots = (free: number, defaultParallelism: number | null = 1) =>
    w.observations.setSlots('default', {
      taskManagers: 1,
      slotsTotal: 4,
      slotsFree: free,
      defaultParallelism,
      flinkVersion: '1.20.5',
      observedAt: w.clock.now(),
    });
  const queued = (parallelism: number | null, admission: AdmissionMode = 'slots') => {
    const job = w.jobs.add({ parallelism, admission });
    return w.executions.put({
      jobId: job.id,
      status: 'QUEUED',
      parallelism,
      admission,
      definition: { jarUrl: 'app.jar', entryClass: null, config: {}, jobVersion: 1 },
    });
  };
  const row = (id: string) => w.executions.rows.get(id);
  return { ...w, submit, slots, queued, row };
}

const first = { number: 1, final: false };

describe('slot-aware admission (on fakes)', () => {
  it('runs when the free slots cover the parallelism', async () => {
    const t = setup();
    t.slots(2);
    const e = t.queued(2);
    expect(await t.submit.run(e.id, first)).to.equal(null);
    expect(t.row(e.id)).to.include({ status: 'RUNNING', waiting: null });
  });

  it('short of slots: stays QUEUED saying what it waits for, asked again with a doubling backoff, Flink untouched', async () => {
    const t = setup();
    t.slots(1);
    const e = t.queued(3);
    expect(await t.submit.run(e.id, first)).to.equal(1000);
    expect(t.row(e.id)?.status).to.equal('QUEUED');
    expect(t.row(e.id)?.waiting).to.deep.equal({
      waitingFor: 'slots',
      slotsNeeded: 3,
      slotsFree: 1,
      since: t.clock.now(),
      checks: 1,
    });
    t.clock.advance(1000);
    expect(await t.submit.run(e.id, first)).to.equal(2000);
    t.clock.advance(2000);
    expect(await t.submit.run(e.id, first)).to.equal(4000);
    expect(t.row(e.id)?.waiting?.checks).to.equal(3);
    expect(t.flink.runs).to.have.length(0);

    // Another job stopped: the observer's next figures have the slots.
    t.slots(4);
    expect(await t.submit.run(e.id, first)).to.equal(null);
    expect(t.row(e.id)).to.include({ status: 'RUNNING', waiting: null });
    expect(t.flink.runs).to.have.length(1);
  });

  it('the backoff stops growing at its ceiling', async () => {
    const t = setup();
    t.slots(0);
    const e = t.queued(1);
    let wait = 0;
    for (let i = 0; i < 10; i++) wait = (await t.submit.run(e.id, first)) ?? 0;
    expect(wait).to.equal(30_000);
  });

  it('past ADMISSION_TIMEOUT: FAILED with a reason that says what to do', async () => {
    const t = setup();
    t.slots(1);
    const e = t.queued(3);
    await t.submit.run(e.id, first);
    t.clock.advance(600_000);
    expect(await t.submit.run(e.id, first)).to.equal(null);
    expect(t.row(e.id)?.status).to.equal('FAILED');
    expect(t.row(e.id)?.errorMessage).to.equal(
      'Not admitted: the job needs 3 slots and cluster default had 1 free (4 in all) for 10 min (ADMISSION_TIMEOUT). ' +
        'Free slots, lower the job\'s parallelism, or set "admission": "ignore".',
    );
    expect(t.flink.runs).to.have.length(0);
  });

  it('a job without parallelism needs the cluster default', async () => {
    const t = setup();
    t.slots(1, 2);
    const e = t.queued(null);
    expect(await t.submit.run(e.id, first)).to.equal(1000);
    expect(t.row(e.id)?.waiting).to.include({ slotsNeeded: 2 });
  });

  it('executions claimed since the slots were read count against them', async () => {
    const t = setup();
    t.slots(3);
    const a = t.queued(2);
    const b = t.queued(2);
    expect(await t.submit.run(a.id, first)).to.equal(null);
    expect(await t.submit.run(b.id, first)).to.equal(1000);
    expect(t.row(b.id)?.waiting).to.include({ slotsNeeded: 2, slotsFree: 1 });
  });

  it('"admission": "ignore" goes to Flink whatever the slots; unknown figures admit', async () => {
    const t = setup();
    const unknown = t.queued(8);
    expect(await t.submit.run(unknown.id, first)).to.equal(null);
    expect(t.row(unknown.id)?.status).to.equal('RUNNING');
    t.slots(0);
    const ignoring = t.queued(8, 'ignore');
    expect(await t.submit.run(ignoring.id, first)).to.equal(null);
    expect(t.row(ignoring.id)?.status).to.equal('RUNNING');
  });

  it('a stop while it waits: CANCELLED, and the message that comes back does nothing', async () => {
    const t = setup();
    t.slots(0);
    const e = t.queued(1);
    await t.submit.run(e.id, first);
    await t.executions.transition(e.id, 'CANCELLED', { finishedAt: t.clock.now() });
    expect(await t.submit.run(e.id, first)).to.equal(null);
    expect(t.row(e.id)?.status).to.equal('CANCELLED');
    expect(t.flink.runs).to.have.length(0);
  });
});
