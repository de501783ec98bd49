import { randomBytes } from 'node:crypto';
import { DEFAULT_CLUSTER, type EventCursor, type OrchestratorEvent } from '@flink-orchestrator/domain';
import { connect, KnexEventStore, KnexJobRepository, type Knex } from '@flink-orchestrator/postgres';
import { expect } from 'chai';
import { databaseUrl } from '../support/test-env';
import { waitFor } from '../support/wait';

/**
 * A reader paging the event feed while a transaction that wrote an event is still open:
 * events committed after it must not move the reader's cursor past it, or the reader never
 * sees it once it commits. Real PostgreSQL, the feed's own store (what GET /api/v1/events reads).
 */
describe('the event feed across a transaction held open (real PostgreSQL)', () => {
  let db: Knex;
  let jobs: KnexJobRepository;
  let feed: KnexEventStore;
  const run = randomBytes(4).toString('hex');
  let created = 0;

  before(() => {
    db = connect(databaseUrl());
    jobs = new KnexJobRepository(db);
    feed = new KnexEventStore(db);
  });
  after(() => db.destroy());

  const newJob = () =>
    jobs.create({
      name: `feed-held-${run}-${++created}`,
      jarUrl: 'a.jar',
      entryClass: null,
      config: {},
      parallelism: null,
      enabled: true,
      cluster: DEFAULT_CLUSTER,
      admission: 'ignore',
    });

  /** Where a reader that has read everything committed so far stands. */
  const cursorAtEnd = async (): Promise<EventCursor | undefined> => {
    let after: EventCursor | undefined;
    for (;;) {
      const page = await feed.read({ limit: 500, ...(after ? { after } : {}) });
      if (page.length === 0) return after;
      after = page[page.length - 1]!.cursor;
    }
  };

  /** Pages from `after` in pages of two, as a reader does, to the end; returns what it read and where it is. */
  const pageFrom = async (after: EventCursor | undefined) => {
    const read: OrchestratorEvent[] = [];
    for (;;) {
      const page = await feed.read({ limit: 2, ...(after ? { after } : {}) });
      if (page.length === 0) return { read, after };
      read.push(...page);
      after = page[page.length - 1]!.cursor;
    }
  };

  it('events committed after a held one do not carry the reader past it: it reads the held event once it commits', async () => {
    const held = await newJob();
    let cursor = await cursorAtEnd();

    // The writer: its job update (job.updated, from the trigger) stays uncommitted.
    const writer = await db.transaction();
    try {
      await writer('jobs').where({ id: held.id }).update({ parallelism: 7 });
      const [{ type: heldType }] = await writer('events').where({ job_id: held.id }).orderBy('id', 'desc').limit(1);
      expect(heldType).to.equal('job.updated');

      // Meanwhile later events commit, each in its own transaction.
      const later = [await newJob(), await newJob(), await newJob()];
      for (const job of later) await jobs.update(job.id, { parallelism: 3 });
      const laterIds = new Set(later.map((j) => j.id));
      expect(await db('events').whereIn('job_id', [...laterIds]), 'committed').to.have.length(6);

      // The reader pages on while the writer holds its transaction open.
      const during = await pageFrom(cursor);
      cursor = during.after;
      expect(
        during.read.filter((e) => e.jobId !== null && laterIds.has(e.jobId)).map((e) => e.type),
        'the feed showed events committed after a transaction still open',
      ).to.deep.equal([]);
      expect(during.read.filter((e) => e.jobId === held.id)).to.deep.equal([]);

      await writer.commit();

      // The reader's next pages, from its cursor: the held event, then the later ones, in order.
      const after = await waitFor('the held event and the later ones in the feed', async () => {
        const next = await pageFrom(cursor);
        const mine = next.read.filter((e) => e.jobId === held.id || (e.jobId !== null && laterIds.has(e.jobId)));
        return mine.length === 7 ? mine : undefined;
      });
      expect(after.map((e) => [e.jobId, e.type])).to.deep.equal([
        [held.id, 'job.updated'],
        ...later.map((j) => [j.id, 'job.created']),
        ...later.map((j) => [j.id, 'job.updated']),
      ]);
    } finally {
      if (!writer.isCompleted()) await writer.rollback();
    }
  });

  it('a transaction that writes its event only after later ones committed: the reader reads it after them', async () => {
    const held = await newJob();
    const cursor = await cursorAtEnd();
    const writer = await db.transaction();
    try {
      // Begun, but no write yet: it has no transaction id, so it holds nothing back.
      await writer('jobs').where({ id: held.id }).first();
      const later = await newJob();
      const first = await pageFrom(cursor);
      expect(first.read.filter((e) => e.jobId === later.id).map((e) => e.type)).to.deep.equal(['job.created']);

      await writer('jobs').where({ id: held.id }).update({ parallelism: 9 });
      await writer.commit();
      const next = await waitFor('the late writer’s event in the feed', async () => {
        const page = await pageFrom(first.after);
        const mine = page.read.filter((e) => e.jobId === held.id);
        return mine.length > 0 ? mine : undefined;
      });
      expect(next.map((e) => e.type)).to.deep.equal(['job.updated']);
    } finally {
      if (!writer.isCompleted()) await writer.rollback();
    }
  });
});
