export { createLogger, redactUrl, type Logger } from './logger';
export { exitOnStartupFailure, runService, stopOnSignals } from './lifecycle';
export { Metrics } from './metrics';
export { ReachabilityLog, type Reachability } from './reachability';
export { systemClock, withTimeout } from './time';
export { auditScope, type AuditScope } from './audit-scope';
