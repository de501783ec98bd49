export { apiRouter, createApp } from './app';
export { errorCodesOf, openApiDocument, OPERATIONS } from './openapi';
export { ERROR_STATUS, type ErrorCode } from './error-codes';
export { jobView, validationView, type JobView, type ValidationView } from './jobs/views';
export { executionView, type ExecutionView } from './executions/views';
export { actionScheduleView, scheduleEntryView, type ScheduleEntryView, type ScheduleView } from './schedules/views';
export { savepointView } from './savepoints/views';
export { upgradeView } from './upgrades/views';
export {
  clusterDetailView,
  clusterView,
  type ClusterDetailView,
  type ClusterObservationView,
  type ClusterView,
} from './clusters/views';
export type { ApiDependencies, HealthCheck } from './deps';
export { HttpProblem } from './problem';
export { sameSecret, TokenAuthority, type ApiToken, type Access } from './auth';
export { AUDITED_ROUTES, UNAUDITED_ROUTES, auditChanges } from './audit/record-changes';
