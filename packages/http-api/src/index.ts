export { apiRouter, createApp } from './app';
export { errorCodesOf, openApiDocument, OPERATIONS } from './openapi';
export { ERROR_STATUS, type ErrorCode } from './error-codes';
export {
  actionScheduleView,
  clusterDetailView,
  clusterView,
  executionView,
  jobView,
  savepointView,
  scheduleEntryView,
  upgradeView,
  validationView,
} from './views';
export type {
  ClusterDetailView,
  ClusterObservationView,
  ClusterView,
  ExecutionView,
  JobView,
  ScheduleEntryView,
  ScheduleView,
  ValidationView,
} from './views';
export type { ApiDependencies, HealthCheck } from './deps';
export { HttpProblem } from './problem';
export { sameSecret, TokenAuthority, type ApiToken, type Access } from './auth';
export { AUDITED_ROUTES, UNAUDITED_ROUTES, auditChanges } from './audit';
