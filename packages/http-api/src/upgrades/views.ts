import type { ProgramConfig, Upgrade, UpgradeMode, UpgradeStatus, UpgradeStep } from '@flink-orchestrator/domain';
import { iso, type Instant } from '../shared/views';

export interface UpgradeView {
  id: string;
  jobId: string;
  mode: UpgradeMode;
  status: UpgradeStatus;
  step: UpgradeStep;
  /** As the API names the fields (jarURL). */
  changes: { jarURL?: string; entryClass?: string | null; config?: ProgramConfig; parallelism?: number | null };
  allowNonRestoredState: boolean;
  fromExecutionId: string | null;
  toExecutionId: string | null;
  savepointId: string | null;
  savepointLocation: string | null;
  jobVersionBefore: number;
  jobVersionAfter: number | null;
  errorMessage: string | null;
  recovery: string | null;
  steps: { step: string; at: Instant; detail: string }[];
  createdAt: Instant;
  updatedAt: Instant;
  finishedAt: Instant | null;
}

export function upgradeView(u: Upgrade): UpgradeView {
  const { jarUrl, ...rest } = u.changes;
  return {
    id: u.id,
    jobId: u.jobId,
    mode: u.mode,
    status: u.status,
    step: u.step,
    changes: jarUrl === undefined ? rest : { jarURL: jarUrl, ...rest },
    allowNonRestoredState: u.allowNonRestoredState,
    fromExecutionId: u.fromExecutionId,
    toExecutionId: u.toExecutionId,
    savepointId: u.savepointId,
    savepointLocation: u.savepointLocation,
    jobVersionBefore: u.jobVersionBefore,
    jobVersionAfter: u.jobVersionAfter,
    errorMessage: u.errorMessage,
    recovery: u.recovery,
    steps: u.steps.map((s) => ({ step: s.step, at: s.at.toISOString(), detail: s.detail })),
    createdAt: u.createdAt.toISOString(),
    updatedAt: u.updatedAt.toISOString(),
    finishedAt: iso(u.finishedAt),
  };
}
