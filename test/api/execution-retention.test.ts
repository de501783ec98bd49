import { randomUUID } from 'node:crypto';
import { ConfigError, loadConfig } from '@flink-orchestrator/config';
import { PruneExecutions, type ExecutionStatus, type RetentionSettings } from '@flink-orchestrator/domain';
import { createLogger } from '@flink-orchestrator/observability';
import { connect, KnexExecutionRepository, migrateToLatest, type Knex } from '@flink-orchestrator/postgres';
import { expect } from 'chai';
import { databaseUrl, dropDatabase, recreateDatabase, TEST_DATABASE } from '../support/test-env';

const DAY = 24 * 60 * 60 * 1000;

/** The retention use case through PostgreSQL, on a database of its own: every row in it is known. */
describe('execution retention (PruneExecutions, real PostgreSQL)', () => {
  const name = `${TEST_DATABASE}_retention`;
  const now = new Date();
  const ago = (days: number) => new Date(now.getTime() - days * DAY);
  const log = createLogger({ level: 'silent', name: 'test' });
  let db: Knex;
  let executions: KnexExecutionRepository;
  let deleteCalls = 0;
  const ids = new Map<string, string>();

  before(async () => {
    await recreateDatabase(name);
    await migrateToLatest(databaseUrl(name), { info: () => undefined });
    db = connect(databaseUrl(name));
    executions = new KnexExecutionRepository(db);
    const job = async () => {
      const [row] = await db('jobs')
        .insert({ name: `retention-${randomUUID().slice(0, 8)}`, jar_url: 'a.jar' })
        .returning('id');
      return row.id as string;
    };
    const a = await job();
    const b = await job();
    // key, job, status, created days ago, finished days ago (null: not ended), savepoint
    const rows: [string, string, ExecutionStatus, number, number | null, string | null][] = [
      ...[1, 2, 3, 4, 5].map((i) => [`old-skipped-${i}`, a, 'SKIPPED', 10, 10, null] as const),
      ...[1, 2, 3].map((i) => [`old-missed-${i}`, a, 'MISSED', 8, 8, null] as const),
      ['old-skipped-b', b, 'SKIPPED', 9, 9, null],
      ['new-skipped-1', a, 'SKIPPED', 1, 1, null],
      ['new-missed-1', a, 'MISSED', 6.9, 6.9, null],
      ['old-finished-1', a, 'FINISHED', 30, 30, null],
      ['old-finished-2', a, 'FINISHED', 30, 30, null],
      ['old-failed', a, 'FAILED', 30, 30, null],
      ['old-lost', b, 'LOST', 25, 25, null],
      ['older-savepoint', a, 'STOPPED', 50, 50, 'file:///sp/older'],
      ['latest-savepoint', a, 'STOPPED', 40, 40, 'file:///sp/latest'],
      ['only-savepoint-b', b, 'STOPPED', 60, 60, 'file:///sp/b'],
      ['ended-lately', a, 'FINISHED', 30, 2, null],
      ['new-finished', a, 'FINISHED', 3, 3, null],
      ['old-running', a, 'RUNNING', 30, null, null],
      ['old-stopping', b, 'STOPPING', 30, null, null],
      ['old-queued', a, 'QUEUED', 30, null, null],
    ] as [string, string, ExecutionStatus, number, number | null, string | null][];
    for (const [key, jobId, status, created, finished, savepoint] of rows) {
      const [row] = await db('job_executions')
        .insert({
          job_id: jobId,
          status,
          trigger: status === 'SKIPPED' || status === 'MISSED' ? 'schedule' : 'manual',
          created_at: ago(created),
          finished_at: finished === null ? null : ago(finished),
          savepoint_location: savepoint,
        })
        .returning('id');
      ids.set(key, row.id as string);
    }
  });
  after(async () => {
    await db?.destroy();
    await dropDatabase(name);
  });

  /** The repository, counting DELETE statements. */
  function prune(settings: Partial<RetentionSettings>): PruneExecutions {
    const counting = new Proxy(executions, {
      get(target, property, receiver) {
        if (property === 'deleteEnded') {
          return (...args: Parameters<KnexExecutionRepository['deleteEnded']>) => {
            deleteCalls++;
            return target.deleteEnded(...args);
          };
        }
        return Reflect.get(target, property, receiver) as unknown;
      },
    });
    return new PruneExecutions(counting, { now: () => now, sleep: () => Promise.resolve() }, log, {
      skippedDays: 7,
      otherDays: null,
      batchSize: 4,
      maxBatches: 50,
      ...settings,
    });
  }

  async function remaining(): Promise<string[]> {
    const present = new Set((await db('job_executions').select('id')).map((r) => r.id as string));
    return [...ids].filter(([, id]) => present.has(id)).map(([key]) => key);
  }

  it('SKIPPED and MISSED older than the limit go, in batches; a run stops at its batch budget and the next goes on', async () => {
    deleteCalls = 0;
    // 9 old ticks, 4 a statement, at most 2 statements: 8 go.
    expect(await prune({ maxBatches: 2 }).run()).to.deep.equal({ ticks: 8, other: 0 });
    expect(deleteCalls).to.equal(2);
    deleteCalls = 0;
    expect(await prune({}).run()).to.deep.equal({ ticks: 1, other: 0 });
    expect(deleteCalls).to.equal(1);
    const left = await remaining();
    expect(left.filter((k) => k.startsWith('old-skipped') || k.startsWith('old-missed'))).to.deep.equal([]);
    expect(left).to.deep.equal([...ids.keys()].filter((k) => !/^old-(skipped|missed)/.test(k)));
  });

  it('the batches loop until a statement deletes fewer than the batch size', async () => {
    const [jobId] = (await db('jobs').select('id').limit(1)).map((r) => r.id as string);
    await db.batchInsert(
      'job_executions',
      Array.from({ length: 10 }, () => ({
        job_id: jobId,
        status: 'SKIPPED',
        trigger: 'schedule',
        created_at: ago(20),
        finished_at: ago(20),
      })),
      10,
    );
    deleteCalls = 0;
    // 10 rows, 3 a statement: 3, 3, 3, 1.
    expect(await prune({ batchSize: 3 }).run()).to.deep.equal({ ticks: 10, other: 0 });
    expect(deleteCalls).to.equal(4);
  });

  it('other ended executions are kept unless a retention is set; active ones and the latest savepoint never go', async () => {
    const before = await remaining();
    expect(await prune({}).run()).to.deep.equal({ ticks: 0, other: 0 });
    expect(await remaining()).to.deep.equal(before);

    deleteCalls = 0;
    // Ended before 20 days ago: two FINISHED, the FAILED, the LOST and the older savepoint.
    expect(await prune({ otherDays: 20, batchSize: 2 }).run()).to.deep.equal({ ticks: 0, other: 5 });
    // One for the ticks (none left), then 2, 2 and 1.
    expect(deleteCalls).to.equal(4);
    expect(await remaining()).to.deep.equal([
      'new-skipped-1',
      'new-missed-1',
      'latest-savepoint',
      'only-savepoint-b',
      'ended-lately',
      'new-finished',
      'old-running',
      'old-stopping',
      'old-queued',
    ]);
    const [a, b] = await Promise.all(
      ['latest-savepoint', 'only-savepoint-b'].map(async (key) => {
        const row = await db('job_executions')
          .where({ id: ids.get(key) })
          .first('job_id');
        return executions.latestSavepoint(row.job_id as string);
      }),
    );
    expect([a, b]).to.deep.equal(['file:///sp/latest', 'file:///sp/b']);
  });

  it('configuration: SKIPPED/MISSED kept 7 days and the rest forever by default; bad values refused', () => {
    const defaults = loadConfig({});
    expect(defaults.executionRetentionSkippedDays).to.equal(7);
    expect(defaults.executionRetentionDays).to.equal(null);
    const set = loadConfig({ EXECUTION_RETENTION_SKIPPED_DAYS: '2', EXECUTION_RETENTION_DAYS: '90' });
    expect(set).to.include({ executionRetentionSkippedDays: 2, executionRetentionDays: 90 });
    expect(loadConfig({ EXECUTION_RETENTION_DAYS: '' }).executionRetentionDays).to.equal(null);
    for (const env of [
      { EXECUTION_RETENTION_SKIPPED_DAYS: '0' },
      { EXECUTION_RETENTION_SKIPPED_DAYS: 'week' },
      { EXECUTION_RETENTION_DAYS: '0' },
      { EXECUTION_RETENTION_DAYS: '1.5' },
    ]) {
      expect(() => loadConfig(env), JSON.stringify(env)).to.throw(ConfigError, Object.keys(env)[0]);
    }
  });
});
