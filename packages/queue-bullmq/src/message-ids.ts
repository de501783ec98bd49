import type { WorkMessage } from '@flink-orchestrator/domain';

export const EXECUTIONS_QUEUE = 'executions';
export const SCHEDULES_QUEUE = 'schedules';

/** BullMQ job ids double as idempotency keys: one pending message per execution and kind. */
export function jobIdFor(message: WorkMessage): string {
  switch (message.kind) {
    case 'submit':
      return `submit-${message.executionId}`;
    case 'stop':
      return `stop-${message.executionId}-${message.requestedAt}`;
    case 'savepoint':
      return `savepoint-${message.savepointId}`;
    case 'dispose':
      return `dispose-${message.savepointId}-${message.requestedAt}`;
    case 'upgrade':
      return `upgrade-${message.upgradeId}`;
    case 'preflight':
      return `preflight-${message.jobId}-${message.scheduledFor}`;
  }
}

export const schedulerIdFor = (jobId: string) => `job-${jobId}`;
export const jobIdFromSchedulerId = (schedulerId: string) => schedulerId.replace(/^job-/, '');
/** Action schedules share the schedules queue under their own prefix. */
export const actionSchedulerIdFor = (scheduleId: string) => `action-${scheduleId}`;
export const ACTION_SCHEDULER = /^action-/;

export interface TickData {
  jobId: string;
  /** Set on the ticks of an action schedule. */
  scheduleId?: string;
}
