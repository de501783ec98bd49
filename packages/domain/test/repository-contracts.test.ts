import { describeActionScheduleRepositoryContract } from './contracts/action-schedule-repository.contract';
import { describeExecutionRepositoryContract } from './contracts/execution-repository.contract';
import { describeUpgradeRepositoryContract } from './contracts/upgrade-repository.contract';
import { world } from './fakes';
import { MemoryActionSchedules } from './memory-action-schedules';

// The fakes held to the cases the knex repositories pass on real PostgreSQL
// (packages/postgres/test/repository-contracts.test.ts). One process: "at once" is interleaved.

describeExecutionRepositoryContract('in-memory fake', () => {
  const w = world();
  return {
    executions: w.executions,
    otherExecutions: w.executions,
    upgrades: w.upgrades,
    savepoints: w.savepoints,
    addJob: (fields = {}) => Promise.resolve(w.jobs.add(fields)),
  };
});

describeUpgradeRepositoryContract('in-memory fake', () => {
  const w = world();
  return { upgrades: w.upgrades, otherUpgrades: w.upgrades, addJob: () => Promise.resolve(w.jobs.add()) };
});

describeActionScheduleRepositoryContract('in-memory fake', () => {
  const w = world();
  const schedules = new MemoryActionSchedules(w.clock);
  return {
    schedules,
    otherSchedules: schedules,
    addJob: () => Promise.resolve(w.jobs.add()),
    now: () => w.clock.now(),
    backdate: (scheduleId, scheduledFor, ms) => {
      const tick = schedules.tick(scheduleId, scheduledFor);
      if (tick) tick.recordedAt = new Date(tick.recordedAt.getTime() - ms);
      return Promise.resolve();
    },
  };
});
