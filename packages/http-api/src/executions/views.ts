import { programArgsFrom, type Execution, type ProgramConfig, type RestartDecision } from '@flink-orchestrator/domain';
import { preflightView, type PreflightView } from '../schedules/views';
import { iso, type Instant } from '../shared/views';

export interface ExecutionDefinitionView {
  jarURL: string;
  entryClass: string | null;
  config: ProgramConfig;
  programArgs: string[];
  parallelism: number | null;
  savepointPath: string | null;
  allowNonRestoredState: boolean;
  jobVersion: number;
}

/** The fields of an execution the API shows as the domain holds them. */
type ExecutionAsIs =
  | 'id'
  | 'jobId'
  | 'cluster'
  | 'trigger'
  | 'status'
  | 'flinkState'
  | 'flinkJobId'
  | 'flinkJarId'
  | 'savepointPath'
  | 'savepointLocation'
  | 'errorMessage'
  | 'attempt'
  | 'admission'
  | 'restartOf'
  | 'upgradeId'
  | 'savepointId';

/** What was decided about a failure: as the domain holds it, the instant as a string. */
export type RestartDecisionView =
  | Omit<Extract<RestartDecision, { decision: 'restarted' }>, 'decidedAt'>
  | Omit<Extract<RestartDecision, { decision: 'exhausted' | 'skipped' }>, 'decidedAt'>;

/** Why a QUEUED execution has not gone to Flink yet. */
export interface AdmissionWaitView {
  slotsNeeded: number;
  slotsFree: number;
  since: Instant;
  checks: number;
}

export interface ExecutionView extends Pick<Execution, ExecutionAsIs> {
  /** What a QUEUED execution waits for: "slots", or null when it waits for nothing. */
  waitingFor: 'slots' | null;
  waiting: AdmissionWaitView | null;
  restart: (RestartDecisionView & { decidedAt: Instant }) | null;
  /** A tick's execution: the check run before the tick, if any. */
  preflight: PreflightView | null;
  /** The savepoints it produced (ids, oldest first): its stop's, manual ones, periodic ones. */
  savepoints: string[];
  definition: ExecutionDefinitionView | null;
  scheduledFor: Instant | null;
  createdAt: Instant;
  submittedAt: Instant | null;
  startedAt: Instant | null;
  finishedAt: Instant | null;
}

export function executionView(e: Execution, produced: string[] = []): ExecutionView {
  return {
    id: e.id,
    jobId: e.jobId,
    cluster: e.cluster,
    trigger: e.trigger,
    restartOf: e.restartOf,
    upgradeId: e.upgradeId,
    preflight: preflightView(e.preflight),
    restart: e.restartDecision ? { ...e.restartDecision, decidedAt: e.restartDecision.decidedAt.toISOString() } : null,
    status: e.status,
    flinkState: e.flinkState,
    flinkJobId: e.flinkJobId,
    flinkJarId: e.flinkJarId,
    savepointPath: e.savepointPath,
    savepointId: e.savepointId,
    savepointLocation: e.savepointLocation,
    savepoints: produced,
    admission: e.admission,
    waitingFor: e.waiting?.waitingFor ?? null,
    waiting: e.waiting
      ? {
          slotsNeeded: e.waiting.slotsNeeded,
          slotsFree: e.waiting.slotsFree,
          since: e.waiting.since.toISOString(),
          checks: e.waiting.checks,
        }
      : null,
    // What it runs (ran), as copied from the job at start; null when it runs nothing.
    definition: e.definition
      ? {
          jarURL: e.definition.jarUrl,
          entryClass: e.definition.entryClass,
          config: e.definition.config,
          programArgs: programArgsFrom(e.definition.config),
          parallelism: e.parallelism,
          savepointPath: e.savepointPath,
          allowNonRestoredState: e.allowNonRestoredState,
          jobVersion: e.definition.jobVersion,
        }
      : null,
    errorMessage: e.errorMessage,
    attempt: e.attempt,
    scheduledFor: iso(e.scheduledFor),
    createdAt: e.createdAt.toISOString(),
    submittedAt: iso(e.submittedAt),
    startedAt: iso(e.startedAt),
    finishedAt: iso(e.finishedAt),
  };
}
