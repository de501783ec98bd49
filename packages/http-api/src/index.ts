export { apiRouter, createApp } from './app';
export { openApiDocument, OPERATIONS } from './openapi';
export type { ApiDependencies, HealthCheck } from './deps';
export { HttpProblem } from './problem';
export { TokenAuthority, type ApiToken, type Access } from './auth';
