import type { Clock } from '../ports/clock';
import type { JobRepository } from '../ports/job-repository';
import type { Logger } from '../ports/logger';
import type { SavepointRepository } from '../ports/savepoint-repository';
import type { WorkQueue } from '../ports/work-queue';
import { savepointsToDispose, type Savepoint, type SavepointRetention } from '../savepoint';

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

  /** Answers how many disposals it asked for. */
  async run(limit = 5_000): Promise<number> {
    const { jobs, savepoints, queue, clock, log, defaults } = this.deps;
    const now = clock.now();
    const restorable = await savepoints.listRestorable(limit);
    const inUse = restorable.length > 0 ? await savepoints.inUse() : new Set<string>();
    const byJob = new Map<string, Savepoint[]>();
    for (const s of restorable) byJob.set(s.jobId, [...(byJob.get(s.jobId) ?? []), s]);
    let asked = 0;
    for (const [jobId, list] of byJob) {
      const job = await jobs.get(jobId);
      if (!job) continue;
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
