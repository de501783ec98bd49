import type { Clock } from '../shared/clock';
import type { JobRepository } from '../jobs/job-repository';
import type { Logger } from '../shared/logger';
import type { SavepointRepository } from './savepoint-repository';
import type { WorkQueue } from '../shared/work-queue';
import { savepointsToDispose, type SavepointRetention } from './savepoint';

export interface ApplySavepointRetentionDeps {
  jobs: JobRepository;
  savepoints: SavepointRepository;
  queue: WorkQueue;
  clock: Clock;
  log: Logger;
  /** For jobs that set none (SAVEPOINT_KEEP_LAST, SAVEPOINT_MAX_AGE_DAYS). */
  defaults: SavepointRetention;
}

/** Disposals asked for this long ago and not confirmed have their message sent again. */
const RESEND_AFTER_MS = 60_000;

/**
 * The savepoint chore: asks for the disposal of each job's savepoints beyond its retention
 * (never the newest, never one an active execution restored from; the repository checks
 * both again as it records the request), and sends again the messages Redis may have lost:
 * disposals not confirmed, savepoints still being taken. Flink does the deleting; a record
 * says disposed only once Flink confirmed it.
 */
export class ApplySavepointRetention {
  constructor(private readonly deps: ApplySavepointRetentionDeps) {}

  /**
   * Answers how many disposals it asked for. Walks the jobs a page of `pageSize` ids at a time
   * (keyset on the job id), then each job's restorable savepoints, so every job is pruned
   * whatever the total.
   */
  async run(pageSize = 500): Promise<number> {
    const { jobs, savepoints, queue, clock, log, defaults } = this.deps;
    const now = clock.now();
    let inUse: Set<string> | undefined;
    let asked = 0;
    let after: string | null = null;
    for (;;) {
      const page: string[] = await savepoints.jobsWithRestorable(after, pageSize);
      for (const jobId of page) {
        const job = await jobs.get(jobId);
        if (!job) continue;
        inUse ??= await savepoints.inUse();
        const list = await savepoints.listRestorable(jobId);
        for (const doomed of savepointsToDispose(list, job.savepointRetention ?? defaults, inUse, now)) {
          const outcome = await savepoints.requestDisposal(jobId, doomed.id, now);
          if (outcome.kind !== 'requested' || !outcome.savepoint.disposal) continue;
          await queue.enqueue({
            kind: 'dispose',
            savepointId: doomed.id,
            requestedAt: outcome.savepoint.disposal.requestedAt.getTime(),
          });
          asked++;
        }
      }
      if (page.length < pageSize) break;
      after = page[page.length - 1] ?? null;
    }
    for (const pending of await savepoints.listPendingDisposals(new Date(now.getTime() - RESEND_AFTER_MS), 100)) {
      if (!pending.disposal) continue;
      await queue.enqueue({
        kind: 'dispose',
        savepointId: pending.id,
        requestedAt: pending.disposal.requestedAt.getTime(),
      });
    }
    // Idempotent: a message still pending under the same id is left as it is.
    for (const pending of await savepoints.listPendingTakes(new Date(now.getTime() - RESEND_AFTER_MS), 100)) {
      await queue.enqueue({ kind: 'savepoint', savepointId: pending.id });
    }
    if (asked > 0) log.info({ disposals: asked }, 'savepoints past their retention sent for disposal');
    return asked;
  }
}
