import { randomBytes } from 'node:crypto';
import { DEFAULT_CLUSTER, type Job } from '@flink-orchestrator/domain';
import {
  connect,
  KnexActionScheduleRepository,
  KnexExecutionRepository,
  KnexJobRepository,
  KnexSavepointRepository,
  KnexUpgradeRepository,
  type Knex,
} from '@flink-orchestrator/postgres';
import { describeActionScheduleRepositoryContract } from '../../domain/test/contracts/action-schedule-repository.contract';
import { describeExecutionRepositoryContract } from '../../domain/test/contracts/execution-repository.contract';
import { describeUpgradeRepositoryContract } from '../../domain/test/contracts/upgrade-repository.contract';
import { databaseUrl } from '../../../test/support/test-env';

/**
 * The domain fakes' cases (packages/domain/test/contracts) against the knex repositories on
 * real PostgreSQL: the unique indexes, locks and compare-and-sets the fakes imitate. Two
 * pools, so the "at once" cases race on two connections.
 */
describe('repository contracts (real PostgreSQL)', () => {
  let db: Knex;
  let other: Knex;
  const run = randomBytes(4).toString('hex');
  const jobIds: string[] = [];

  before(() => {
    db = connect(databaseUrl());
    other = connect(databaseUrl());
  });
  after(async () => {
    if (!db) return;
    if (jobIds.length > 0) await db('jobs').whereIn('id', jobIds).delete();
    await Promise.all([db.destroy(), other.destroy()]);
  });

  const addJob = async (fields: { enabled?: boolean } = {}): Promise<Job> => {
    const job = await new KnexJobRepository(db).create({
      name: `contract-${run}-${jobIds.length + 1}`,
      jarUrl: 'app.jar',
      entryClass: 'com.example.Main',
      config: { a: 1 },
      parallelism: 2,
      enabled: fields.enabled ?? true,
      cluster: DEFAULT_CLUSTER,
      admission: 'ignore',
    });
    jobIds.push(job.id);
    return job;
  };

  describeExecutionRepositoryContract('knex on PostgreSQL', () => ({
    executions: new KnexExecutionRepository(db),
    otherExecutions: new KnexExecutionRepository(other),
    upgrades: new KnexUpgradeRepository(db),
    savepoints: new KnexSavepointRepository(db),
    addJob,
  }));

  describeUpgradeRepositoryContract('knex on PostgreSQL', () => ({
    upgrades: new KnexUpgradeRepository(db),
    otherUpgrades: new KnexUpgradeRepository(other),
    addJob: () => addJob(),
  }));

  describeActionScheduleRepositoryContract('knex on PostgreSQL', () => ({
    schedules: new KnexActionScheduleRepository(db),
    otherSchedules: new KnexActionScheduleRepository(other),
    addJob: () => addJob(),
    // recorded_at is PostgreSQL's clock, on this machine.
    now: () => new Date(),
    backdate: async (scheduleId, scheduledFor, ms) => {
      await db('schedule_ticks')
        .where({ schedule_id: scheduleId, scheduled_for: scheduledFor })
        .update({ recorded_at: db.raw("recorded_at - ? * interval '1 millisecond'", [ms]) });
    },
  }));
});
