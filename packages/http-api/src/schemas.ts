import { AUDIT_SCHEMAS } from './audit/schemas';
import { CLUSTER_SCHEMAS } from './clusters/schemas';
import { EVENT_SCHEMAS } from './events/schemas';
import { EXECUTION_SCHEMAS } from './executions/schemas';
import { JOB_SCHEMAS } from './jobs/schemas';
import { OPERATIONS_SCHEMAS } from './operations/schemas';
import { SAVEPOINT_SCHEMAS } from './savepoints/schemas';
import { SCHEDULE_SCHEMAS } from './schedules/schemas';
import { ERROR_SCHEMAS, type JsonSchema } from './shared/schemas';
import { UPGRADE_SCHEMAS } from './upgrades/schemas';

export { arrayOf, fromJoi, schemaRef, type JsonSchema } from './shared/schemas';

const BY_NAME: Record<string, JsonSchema> = {
  ...JOB_SCHEMAS,
  ...EXECUTION_SCHEMAS,
  ...SCHEDULE_SCHEMAS,
  ...SAVEPOINT_SCHEMAS,
  ...UPGRADE_SCHEMAS,
  ...CLUSTER_SCHEMAS,
  ...EVENT_SCHEMAS,
  ...AUDIT_SCHEMAS,
  ...OPERATIONS_SCHEMAS,
  ...ERROR_SCHEMAS,
};

/** The order the published document has always listed them in: clients diff it, so it stays. */
const DOCUMENT_ORDER = [
  'ProgramConfig',
  'Job',
  'RestartPolicy',
  'RestartDecision',
  'Savepoint',
  'ActionSchedule',
  'Webhook',
  'WebhookDelivery',
  'AuditEntry',
  'Event',
  'Upgrade',
  'PreflightCheck',
  'Schedule',
  'ScheduleEntry',
  'ExecutionDefinition',
  'Execution',
  'Cluster',
  'ClusterDetail',
  'ClusterObservation',
  'FlinkJobCancelled',
  'Validation',
  'Health',
  'Liveness',
  'FieldError',
  'Error',
];

/** Each capability's answer schemas (its schemas.ts), as one map: the document's components, by name. */
export const COMPONENT_SCHEMAS: Record<string, JsonSchema> = Object.fromEntries([
  ...DOCUMENT_ORDER.filter((name) => name in BY_NAME).map((name): [string, JsonSchema] => [
    name,
    BY_NAME[name] as JsonSchema,
  ]),
  // A schema added since goes after the ones listed, rather than silently missing.
  ...Object.entries(BY_NAME).filter(([name]) => !DOCUMENT_ORDER.includes(name)),
]);
