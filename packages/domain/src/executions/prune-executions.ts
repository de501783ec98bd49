import { EXECUTION_STATUSES, isTerminal, type ExecutionStatus } from './execution';
import type { ExecutionRepository } from './execution-repository';
import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';

export interface RetentionSettings {
  /** SKIPPED and MISSED executions (ticks that did not run) older than this go. */
  skippedDays: number;
  /** Other ended executions older than this go; null keeps them forever. */
  otherDays: number | null;
  /** Rows per DELETE statement, so no statement holds many locks or runs long. */
  batchSize: number;
  /** Statements per run at most; the next run goes on where this one stopped. */
  maxBatches: number;
}

export const DEFAULT_RETENTION_BATCH = 10_000;

const TICKS_NOT_RUN: readonly ExecutionStatus[] = ['SKIPPED', 'MISSED'];
const OTHER_ENDED: readonly ExecutionStatus[] = EXECUTION_STATUSES.filter(
  (status) => isTerminal(status) && !TICKS_NOT_RUN.includes(status),
);
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Deletes old history in small batches. A per-second `skip` schedule in front of a
 * streaming job records about 86,000 SKIPPED ticks a day; they say nothing after a few
 * days. Active executions are never touched (only ended statuses are named), nor is the
 * execution holding a job's latest savepoint: `restoreFrom: latest-savepoint` reads it.
 */
export class PruneExecutions {
  constructor(
    private readonly executions: ExecutionRepository,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly settings: RetentionSettings,
  ) {}

  async run(): Promise<{ ticks: number; other: number }> {
    const now = this.clock.now().getTime();
    let budget = this.settings.maxBatches;
    const prune = async (statuses: readonly ExecutionStatus[], days: number): Promise<number> => {
      const before = new Date(now - days * DAY_MS);
      let deleted = 0;
      while (budget > 0) {
        budget--;
        const n = await this.executions.deleteEnded(statuses, before, this.settings.batchSize);
        deleted += n;
        if (n < this.settings.batchSize) break;
      }
      return deleted;
    };
    const ticks = await prune(TICKS_NOT_RUN, this.settings.skippedDays);
    const other = this.settings.otherDays === null ? 0 : await prune(OTHER_ENDED, this.settings.otherDays);
    if (ticks + other > 0) this.log.info({ ticks, other }, 'old executions deleted');
    return { ticks, other };
  }
}
