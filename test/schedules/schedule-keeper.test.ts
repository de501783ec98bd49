import { randomUUID } from 'node:crypto';
import { CronParserCalendar } from '@flink-orchestrator/cron';
import { ManageSchedules } from '@flink-orchestrator/domain';
import { systemClock } from '@flink-orchestrator/observability';
import { createLogger } from '@flink-orchestrator/observability';
import { connect, KnexJobRepository, type Knex } from '@flink-orchestrator/postgres';
import { BullScheduleTimer } from '@flink-orchestrator/queue-bullmq';
import { expect } from 'chai';
import IORedis from 'ioredis';
import { databaseUrl, REDIS_PREFIX, REDIS_URL } from '../support/test-env';

/** The reconciler's half of schedules: timers rebuilt from PostgreSQL (real PostgreSQL and Redis). */
describe('ManageSchedules.reconcile', () => {
  let db: Knex;
  let redis: IORedis;
  let timer: BullScheduleTimer;
  let jobs: KnexJobRepository;
  const log = createLogger({ level: 'silent', name: 'test' });

  before(() => {
    db = connect(databaseUrl());
    redis = new IORedis(REDIS_URL, { maxRetriesPerRequest: null });
    // A prefix of its own (under this run's, so it is cleaned up): only these timers in it.
    timer = new BullScheduleTimer(redis, `${REDIS_PREFIX}-keeper`);
    jobs = new KnexJobRepository(db);
  });
  after(async () => {
    await timer.close();
    redis.disconnect();
    await db.destroy();
  });

  async function scheduled(endAt: Date | null) {
    const job = await jobs.create({
      name: `keeper-${randomUUID().slice(0, 8)}`,
      jarUrl: 'a.jar',
      entryClass: null,
      config: {},
      parallelism: null,
      enabled: true,
      cluster: 'default',
      admission: 'slots',
    });
    const cron = '0 0 * * *';
    await jobs.setSchedule(job.id, { cron, timezone: 'UTC', overlap: 'skip', startAt: null, endAt });
    return job.id;
  }

  it('a schedule past its endAt gets no timer, and does not keep the others from coming back', async () => {
    const ended = await scheduled(new Date(Date.now() - 60_000));
    const live = await scheduled(null);
    const keeper = new ManageSchedules({ jobs, timer, calendar: new CronParserCalendar(), clock: systemClock, log });
    await keeper.reconcile();
    const timers = await timer.list();
    expect(timers.has(live)).to.equal(true);
    expect(timers.has(ended)).to.equal(false);
    // Once there, an ended schedule's timer is removed.
    await jobs.setSchedule(live, {
      cron: '0 0 * * *',
      timezone: 'UTC',
      overlap: 'skip',
      startAt: new Date(Date.now() - 3600_000),
      endAt: new Date(Date.now() - 1000),
    });
    await keeper.reconcile();
    expect((await timer.list()).has(live)).to.equal(false);
    for (const id of [ended, live]) await jobs.setSchedule(id, null);
  });
});

describe('ManageSchedules.reconcile racing a schedule removal', () => {
  it('a timer it creates for a schedule removed meanwhile does not outlive the removal', async () => {
    const log = createLogger({ level: 'silent', name: 'test' });
    const db = connect(databaseUrl());
    const redis = new IORedis(REDIS_URL, { maxRetriesPerRequest: null });
    const timer = new BullScheduleTimer(redis, `${REDIS_PREFIX}-keeper-race`);
    try {
      const jobs = new KnexJobRepository(db);
      const job = await jobs.create({
        name: `keeper-race-${randomUUID().slice(0, 8)}`,
        jarUrl: 'a.jar',
        entryClass: null,
        config: {},
        parallelism: null,
        enabled: true,
        cluster: 'default',
        admission: 'slots',
      });
      await jobs.setSchedule(job.id, {
        cron: '* * * * * *',
        timezone: 'UTC',
        overlap: 'skip',
        startAt: null,
        endAt: null,
      });
      // The reconciler lists the schedule; the API removes it (row and timer) before the
      // reconciler writes the timer it found missing.
      const racing = Object.create(jobs) as KnexJobRepository;
      racing.listScheduled = async () => {
        const listed = await jobs.listScheduled();
        await new ManageSchedules({ jobs, timer, calendar: new CronParserCalendar(), clock: systemClock, log }).remove(
          job.id,
        );
        return listed;
      };
      await new ManageSchedules({
        jobs: racing,
        timer,
        calendar: new CronParserCalendar(),
        clock: systemClock,
        log,
      }).reconcile();
      expect((await timer.list()).has(job.id)).to.equal(false);
    } finally {
      await timer.close();
      redis.disconnect();
      await db.destroy();
    }
  });
});
