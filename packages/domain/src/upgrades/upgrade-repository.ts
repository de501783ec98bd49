import type { Upgrade, UpgradeLogEntry, UpgradeStep } from './upgrade';
import type { PageRequest } from '../jobs/job-repository';

export type NewUpgrade = Pick<
  Upgrade,
  'jobId' | 'mode' | 'changes' | 'allowNonRestoredState' | 'status' | 'step' | 'steps' | 'fromExecutionId'
> &
  Partial<Pick<Upgrade, 'jobVersionAfter' | 'finishedAt'>> & { jobVersionBefore: number };

/** What a step writes as it moves the upgrade on. */
export type UpgradePatch = Partial<
  Pick<
    Upgrade,
    | 'step'
    | 'status'
    | 'toExecutionId'
    | 'savepointId'
    | 'savepointLocation'
    | 'stopRequestedAt'
    | 'jobVersionAfter'
    | 'errorMessage'
    | 'recovery'
    | 'finishedAt'
  >
>;

export interface UpgradeRepository {
  /**
   * `in_progress`: the job has an upgrade in progress already (one at a time, enforced by an
   * index). With `expectedJobVersion`, throws JobModified unless the job is at that version,
   * checked under a lock on the job row held until the record is in.
   */
  create(upgrade: NewUpgrade, options?: { expectedJobVersion?: number }): Promise<Upgrade | 'in_progress'>;
  get(id: string): Promise<Upgrade | null>;
  /** Newest first. */
  listByJob(jobId: string, page: PageRequest): Promise<Upgrade[]>;
  /** Upgrades still IN_PROGRESS: the reconciler sends their message again. */
  listInProgress(limit: number): Promise<Upgrade[]>;
  /**
   * Writes `patch` only while the upgrade is IN_PROGRESS at `fromStep` (a compare-and-set),
   * appending `log` to its steps. Null when another worker moved it first.
   */
  advance(id: string, fromStep: UpgradeStep, patch: UpgradePatch, log?: UpgradeLogEntry): Promise<Upgrade | null>;
}
