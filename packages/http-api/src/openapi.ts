import { ERROR_STATUS, type ErrorCode } from './error-codes';
import { SAFE_REQUEST_ID } from './error-handler';
import { arrayOf, COMPONENT_SCHEMAS, fromJoi, schemaRef as ref, type JsonSchema } from './schemas';
import { auditQuerySchema } from './audit/validation';
import { CLUSTER_NAME, createClusterSchema, FLINK_JOB_ID, updateClusterSchema } from './clusters/validation';
import { createWebhookSchema, eventFeedSchema, updateWebhookSchema } from './events/validation';
import { executionHistorySchema, startSchema, stopSchema } from './executions/validation';
import { createJobSchema, jobWriteQuerySchema, updateJobSchema } from './jobs/validation';
import { actionScheduleSchema, scheduleSchema } from './schedules/validation';
import { INSTANT, pageSchema } from './shared/validation';
import { upgradeSchema } from './upgrades/validation';

/**
 * The OpenAPI 3.1 description of the API, from one source each: request bodies and
 * parameters from the joi schemas the routes validate with (each capability's validation.ts),
 * answers from each capability's schemas.ts, merged by schemas.ts (which
 * the API tests check every answer against), error codes and statuses from error-codes.ts.
 * What every operation of a kind can answer (401 and 403 from the token guard, 400, 413 and
 * 415 for a body, 503 when PostgreSQL or Redis is down, 500) is added by the rules below,
 * the way the middleware adds it. A test checks that every route is described, and the API
 * tests validate each request they send and each answer they get against this document.
 */
type Method = 'get' | 'post' | 'put' | 'delete';
export type Tag =
  'jobs' | 'clusters' | 'executions' | 'savepoints' | 'upgrades' | 'schedules' | 'events' | 'operations' | 'docs';
/** Who may call: anyone, the metrics scraper (when METRICS_TOKEN is set), or holders of an API token. */
type Guard = 'none' | 'metrics' | 'token';
type HeaderName = 'ETag' | 'Location' | 'Link';

interface Answer {
  status: number;
  description: string;
  schema?: JsonSchema;
  /** application/json unless said. */
  mediaType?: string;
  headers?: HeaderName[];
}

export interface Operation {
  operationId: string;
  method: Method;
  path: string;
  tag: Tag;
  summary: string;
  description?: string;
  guard: Guard;
  /** A request body: the name of its schema among the components. */
  body?: { schema: string; required: boolean };
  /** Query and header parameters, by component name. */
  parameters?: string[];
  ok: Answer;
  /** The error codes particular to the operation; the ones of its kind are added. */
  errors: ErrorCode[];
  /** Answers that are not errors besides `ok` (the 503 of /health). */
  others?: Answer[];
}

const BODY_CODES: ErrorCode[] = [
  'validation_failed',
  'malformed_json',
  'bad_request',
  'payload_too_large',
  'unsupported_media_type',
];

const listed = 'A page; `Link: <...>; rel="next"` names the next one when there is more.';

export const OPERATIONS: Operation[] = [
  {
    operationId: 'getHealth',
    method: 'get',
    path: '/health',
    tag: 'operations',
    summary: 'Readiness: PostgreSQL and Redis reachable',
    description: 'Flink is reported ("ok" or "unreachable") without deciding readiness.',
    guard: 'none',
    ok: { status: 200, schema: ref('Health'), description: 'ready' },
    errors: [],
    others: [{ status: 503, schema: ref('Health'), description: 'not ready: a check names the dependency' }],
  },
  {
    operationId: 'getLiveness',
    method: 'get',
    path: '/health/live',
    tag: 'operations',
    summary: 'Liveness: the process answers; no dependency is consulted',
    guard: 'none',
    ok: { status: 200, schema: ref('Liveness'), description: 'the process runs' },
    errors: [],
  },
  {
    operationId: 'getMetrics',
    method: 'get',
    path: '/metrics',
    tag: 'operations',
    summary: 'Prometheus metrics',
    description: 'Needs METRICS_TOKEN as a bearer token when it is set; open otherwise.',
    guard: 'metrics',
    ok: {
      status: 200,
      mediaType: 'text/plain',
      schema: { type: 'string' },
      description: 'the Prometheus text exposition format',
    },
    errors: [],
  },
  {
    operationId: 'getOpenApiDocument',
    method: 'get',
    path: '/openapi.json',
    tag: 'docs',
    summary: 'This document',
    guard: 'none',
    ok: { status: 200, schema: { type: 'object' }, description: 'the OpenAPI 3.1 document' },
    errors: [],
  },
  {
    operationId: 'getDocsPage',
    method: 'get',
    path: '/docs',
    tag: 'docs',
    summary: 'Interactive documentation (Swagger UI)',
    guard: 'none',
    ok: { status: 200, mediaType: 'text/html', schema: { type: 'string' }, description: 'the page' },
    errors: [],
  },
  {
    operationId: 'createJob',
    method: 'post',
    path: '/api/v1/jobs',
    tag: 'jobs',
    summary: 'Create a job',
    description:
      "`scheduleCron` also sets a schedule with default settings. `cluster` names the Flink cluster it runs on (`default` when absent); one that does not exist is 400 validation_failed on `cluster`. With `?validate=true` the job is first checked on its cluster as POST /api/v1/jobs/{id}/validate checks it, and is created only when Flink accepts it: 422 validation_failed_on_flink (Flink's reason) or 503 dependency_unavailable create nothing.",
    guard: 'token',
    parameters: ['Validate'],
    body: { schema: 'JobCreate', required: true },
    ok: {
      status: 201,
      schema: ref('Job'),
      headers: ['Location', 'ETag'],
      description: 'created; Location names it, ETag is its version',
    },
    errors: ['job_name_taken', 'validation_failed_on_flink'],
  },
  {
    operationId: 'listJobs',
    method: 'get',
    path: '/api/v1/jobs',
    tag: 'jobs',
    summary: 'List jobs, oldest first',
    guard: 'token',
    parameters: ['Limit', 'Cursor'],
    ok: { status: 200, schema: arrayOf('Job'), headers: ['Link'], description: listed },
    errors: [],
  },
  {
    operationId: 'getJob',
    method: 'get',
    path: '/api/v1/jobs/{id}',
    tag: 'jobs',
    summary: 'Read a job',
    guard: 'token',
    ok: { status: 200, schema: ref('Job'), headers: ['ETag'], description: 'the job; ETag: "<version>"' },
    errors: [],
  },
  {
    operationId: 'updateJob',
    method: 'put',
    path: '/api/v1/jobs/{id}',
    tag: 'jobs',
    summary: 'Change a job; absent fields keep their value',
    description:
      'Based on a version (If-Match: "<version>", or a `version` field), the change is made only while the job is at that version, else 412 precondition_failed (If-Match) or 409 job_modified (the field), naming the current one (also in `details.currentVersion`). Moving the job to another `cluster` while an execution is active: 409 execution_active; a cluster that does not exist: 400 validation_failed on `cluster`. With `?validate=true` the job as it would be after the change is first checked on its cluster as POST /api/v1/jobs/{id}/validate checks it, and the change is saved only when Flink accepts it and the job is still the version that was checked (else 412 or 409 as above): 422 validation_failed_on_flink or 503 dependency_unavailable change nothing.',
    guard: 'token',
    parameters: ['IfMatch', 'Validate'],
    body: { schema: 'JobUpdate', required: true },
    ok: { status: 200, schema: ref('Job'), headers: ['ETag'], description: 'the job; ETag: "<version>"' },
    errors: ['job_name_taken', 'job_modified', 'execution_active', 'validation_failed_on_flink'],
  },
  {
    operationId: 'validateJob',
    method: 'post',
    path: '/api/v1/jobs/{id}/validate',
    tag: 'jobs',
    summary: 'Check the job on its Flink cluster without running it: upload its JAR, build its plan',
    description:
      "Fetches the job's JAR from the data-processor and uploads it to the job's cluster (once per content: a JAR Flink already holds is reused, and a later start reuses it too), then asks Flink for the job's plan (`POST /jars/{jarid}/plan`), which runs the program's `main()` with the job's entry class, config and parallelism. No job is submitted. Flink refusing the program (entry class not found, `main()` threw, a JAR that cannot be fetched or uploaded): 422 validation_failed_on_flink, the message being Flink's reason and `details` naming the cluster and the stage (`jar` or `plan`). Flink or the data-processor unreachable: 503 dependency_unavailable. No body.",
    guard: 'token',
    ok: { status: 200, schema: ref('Validation'), description: 'Flink accepted the program; its plan, summarised' },
    // The body parser reads a body sent anyway, so its refusals can answer here too.
    errors: ['validation_failed_on_flink', ...BODY_CODES],
  },
  {
    operationId: 'deleteJob',
    method: 'delete',
    path: '/api/v1/jobs/{id}',
    tag: 'jobs',
    summary: 'Delete a job and its history',
    description:
      'With If-Match: "<version>", only while the job is at that version, else 412 precondition_failed naming the current one (`details.currentVersion`).',
    guard: 'token',
    parameters: ['IfMatch'],
    ok: { status: 204, description: 'deleted' },
    errors: ['execution_active'],
  },
  {
    operationId: 'createCluster',
    method: 'post',
    path: '/api/v1/clusters',
    tag: 'clusters',
    summary: 'Register a Flink cluster',
    description:
      '`auth` (credentials for a JobManager behind a proxy) is write-only: answers only give its type. `savepointDir` overrides SAVEPOINT_DIR for this cluster.',
    guard: 'token',
    body: { schema: 'ClusterCreate', required: true },
    ok: { status: 201, schema: ref('Cluster'), headers: ['Location'], description: 'created; Location names it' },
    errors: ['cluster_name_taken'],
  },
  {
    operationId: 'listClusters',
    method: 'get',
    path: '/api/v1/clusters',
    tag: 'clusters',
    summary: 'List clusters, oldest first',
    guard: 'token',
    parameters: ['Limit', 'Cursor'],
    ok: { status: 200, schema: arrayOf('Cluster'), headers: ['Link'], description: listed },
    errors: [],
  },
  {
    operationId: 'getCluster',
    method: 'get',
    path: '/api/v1/clusters/{name}',
    tag: 'clusters',
    summary: 'Read a cluster, with what the observer last saw of it',
    description:
      '`observed` is what the observer last saw of the cluster, read from the database (this call never asks Flink): reachability and since when, slots (null until observed), running jobs, the jobs no execution owns (`unmanagedJobs`) and the executions recorded as ended whose Flink job still runs (`driftedExecutions`). null until the observer has seen the cluster.',
    guard: 'token',
    ok: { status: 200, schema: ref('ClusterDetail'), description: 'the cluster' },
    errors: [],
  },
  {
    operationId: 'updateCluster',
    method: 'put',
    path: '/api/v1/clusters/{name}',
    tag: 'clusters',
    summary: 'Change a cluster; absent fields keep their value',
    description:
      'The name does not change. `auth: null` removes the credentials. Workers use the new settings within a second, for executions already running too.',
    guard: 'token',
    body: { schema: 'ClusterUpdate', required: true },
    ok: { status: 200, schema: ref('Cluster'), description: 'the cluster' },
    errors: [],
  },
  {
    operationId: 'deleteCluster',
    method: 'delete',
    path: '/api/v1/clusters/{name}',
    tag: 'clusters',
    summary: 'Remove a cluster no job uses',
    description: 'While jobs name it: 409 cluster_in_use, `details.jobs` saying how many.',
    guard: 'token',
    ok: { status: 204, description: 'deleted' },
    errors: ['cluster_in_use'],
  },
  {
    operationId: 'cancelFlinkJob',
    method: 'post',
    path: '/api/v1/clusters/{name}/jobs/{flinkJobId}/cancel',
    tag: 'clusters',
    summary: 'Cancel a Flink job no active execution owns',
    description:
      'For jobs the service did not start (`observed.unmanagedJobs`) or that outlived their execution (`observed.driftedExecutions`). The job of an active execution is refused (409 flink_job_managed, naming the execution and its job): stop it with POST /api/v1/jobs/{id}/stop, so its record follows. A job Flink does not know: 404 flink_job_not_found; one that has ended: 409 flink_job_ended; Flink unreachable: 503 dependency_unavailable. No body.',
    guard: 'token',
    ok: {
      status: 202,
      schema: ref('FlinkJobCancelled'),
      description: 'Flink accepted the cancel; the job ends shortly',
    },
    // The body parser reads a body sent anyway, so its refusals can answer here too.
    errors: ['flink_job_not_found', 'flink_job_managed', 'flink_job_ended', ...BODY_CODES],
  },
  {
    operationId: 'startJob',
    method: 'post',
    path: '/api/v1/jobs/{id}/start',
    tag: 'executions',
    summary: 'Start an execution',
    description:
      'The body is optional: a bare POST starts the job as it is defined. Inside the job\'s stop window (from a tick of one of its `stop` schedules until the next tick of one of its `start` schedules) the start is refused, 409 in_stop_window naming the window\'s end, unless the body has `"force": true`.',
    guard: 'token',
    body: { schema: 'StartOptions', required: false },
    ok: {
      status: 202,
      schema: ref('Execution'),
      headers: ['Location'],
      description: 'queued; Location names the execution',
    },
    errors: [
      'job_disabled',
      'execution_active',
      'in_stop_window',
      'no_savepoint',
      'savepoint_not_found',
      'savepoint_not_usable',
    ],
  },
  {
    operationId: 'stopJob',
    method: 'post',
    path: '/api/v1/jobs/{id}/stop',
    tag: 'executions',
    summary: 'Stop the active execution: cancel, or stop with a savepoint',
    description: 'A stop-with-savepoint that hangs: POST /stop again with {"savepoint": false} turns it into a cancel.',
    guard: 'token',
    body: { schema: 'StopOptions', required: false },
    ok: {
      status: 202,
      schema: ref('Execution'),
      headers: ['Location'],
      description: 'stopping; Location names the execution',
    },
    errors: ['no_active_execution', 'concurrent_modification'],
  },
  {
    operationId: 'takeSavepoint',
    method: 'post',
    path: '/api/v1/jobs/{id}/savepoints',
    tag: 'savepoints',
    summary: 'Take a savepoint of the running execution; the job goes on running',
    description:
      "Records the savepoint IN_PROGRESS and has a worker ask Flink for it (`POST /jobs/{jobid}/savepoints`, into the cluster's savepoint directory). Poll the record (Location) for COMPLETED and its `location`, or FAILED and Flink's reason. No RUNNING execution: 409 no_running_execution. No body.",
    guard: 'token',
    ok: {
      status: 202,
      schema: ref('Savepoint'),
      headers: ['Location'],
      description: 'asked for; Location names the record',
    },
    errors: ['no_running_execution', ...BODY_CODES],
  },
  {
    operationId: 'listSavepoints',
    method: 'get',
    path: '/api/v1/jobs/{id}/savepoints',
    tag: 'savepoints',
    summary: "The job's savepoints, newest first: stops', manual, periodic and upgrades' ones",
    guard: 'token',
    parameters: ['Limit', 'Cursor'],
    ok: { status: 200, schema: arrayOf('Savepoint'), headers: ['Link'], description: listed },
    errors: [],
  },
  {
    operationId: 'getSavepoint',
    method: 'get',
    path: '/api/v1/jobs/{id}/savepoints/{savepointId}',
    tag: 'savepoints',
    summary: 'One savepoint',
    guard: 'token',
    ok: { status: 200, schema: ref('Savepoint'), description: 'the savepoint' },
    errors: [],
  },
  {
    operationId: 'disposeSavepoint',
    method: 'delete',
    path: '/api/v1/jobs/{id}/savepoints/{savepointId}',
    tag: 'savepoints',
    summary: 'Dispose of a savepoint through Flink (its files are deleted)',
    description:
      "A worker has Flink dispose of it (`POST /savepoint-disposal`); `disposedAt` is set only once Flink confirmed it. Asking again for one being (or already) disposed of answers it as it is. Never the job's newest completed savepoint, nor one an active execution restored from: 409 savepoint_in_use. Not completed: 409 savepoint_not_usable. When Flink's disposal fails, `disposalError` says why and the savepoint may be asked for again.",
    guard: 'token',
    ok: { status: 202, schema: ref('Savepoint'), headers: ['Location'], description: 'disposal asked for (or done)' },
    errors: ['savepoint_in_use', 'savepoint_not_usable'],
  },
  {
    operationId: 'upgradeJob',
    method: 'post',
    path: '/api/v1/jobs/{id}/upgrade',
    tag: 'upgrades',
    summary: 'Change the job and carry its running execution over, keeping its state',
    description:
      'With an execution RUNNING (202): the workers first have Flink plan the new definition on the job\'s cluster (step `validating`, as POST /api/v1/jobs/{id}/validate does; a refusal fails the upgrade with nothing stopped), then stop it with a savepoint ("mode": "savepoint", the default; "cancel" cancels it and the new definition starts without state), change the job, and start it from that savepoint; follow the upgrade at Location. Each step is recorded in `steps`; a failure midway says where (`errorMessage`) and what to do (`recovery`, e.g. a start with `restoreFrom` the savepoint). With nothing running (200): a plain update, recorded as a completed upgrade. An execution QUEUED, SUBMITTING or STOPPING: 409 execution_active. One upgrade at a time: 409 upgrade_in_progress. With If-Match: "<version>", only while the job is at that version (the record is based on it), else 412 precondition_failed.',
    guard: 'token',
    parameters: ['IfMatch'],
    body: { schema: 'UpgradeRequest', required: true },
    ok: {
      status: 202,
      schema: ref('Upgrade'),
      headers: ['Location'],
      description: 'under way; Location names the upgrade',
    },
    others: [
      {
        status: 200,
        schema: ref('Upgrade'),
        headers: ['Location'],
        description: 'nothing was running: the job was updated',
      },
    ],
    errors: ['execution_active', 'upgrade_in_progress', 'job_modified'],
  },
  {
    operationId: 'listJobUpgrades',
    method: 'get',
    path: '/api/v1/jobs/{id}/upgrades',
    tag: 'upgrades',
    summary: "The job's upgrades, newest first",
    guard: 'token',
    parameters: ['Limit', 'Cursor'],
    ok: { status: 200, schema: arrayOf('Upgrade'), headers: ['Link'], description: listed },
    errors: [],
  },
  {
    operationId: 'getUpgrade',
    method: 'get',
    path: '/api/v1/upgrades/{upgradeId}',
    tag: 'upgrades',
    summary: 'One upgrade: its steps, and how to recover when it failed',
    guard: 'token',
    ok: { status: 200, schema: ref('Upgrade'), description: 'the upgrade' },
    errors: [],
  },
  {
    operationId: 'createActionSchedule',
    method: 'post',
    path: '/api/v1/jobs/{id}/schedules',
    tag: 'schedules',
    summary: 'Add a schedule with an action: start, stop (with or without a savepoint), savepoint',
    description:
      'Besides the job\'s start schedule (POST /api/v1/jobs/{id}/schedule), a job may have any number of these. Each tick is recorded once (`recentTicks`): done, skipped with the reason (nothing running to stop or to save, an execution already active to start), missed (later than SCHEDULE_MISFIRE_GRACE; a stop tick inside its open stop window acts late instead, saying so), failed, or abandoned (pending past SCHEDULE_TICK_ABANDON_AFTER: its worker died after the claim; never run again). Ticks no timer delivered (no worker ran) get rows too. `savepoint` (default true) and `drain` go with "stop"; `restoreFrom: "latest-savepoint"` with "start". Periodic savepoints are schedules with "action": "savepoint".',
    guard: 'token',
    body: { schema: 'ActionScheduleCreate', required: true },
    ok: { status: 201, schema: ref('ActionSchedule'), headers: ['Location'], description: 'created' },
    errors: [],
  },
  {
    operationId: 'listActionSchedules',
    method: 'get',
    path: '/api/v1/jobs/{id}/schedules',
    tag: 'schedules',
    summary: "The job's schedules with an action, oldest first, each with its next runs and latest ticks",
    guard: 'token',
    ok: { status: 200, schema: arrayOf('ActionSchedule'), description: 'the schedules' },
    errors: [],
  },
  {
    operationId: 'getActionSchedule',
    method: 'get',
    path: '/api/v1/jobs/{id}/schedules/{scheduleId}',
    tag: 'schedules',
    summary: 'One schedule with an action',
    guard: 'token',
    ok: { status: 200, schema: ref('ActionSchedule'), description: 'the schedule' },
    errors: [],
  },
  {
    operationId: 'deleteActionSchedule',
    method: 'delete',
    path: '/api/v1/jobs/{id}/schedules/{scheduleId}',
    tag: 'schedules',
    summary: 'Remove a schedule with an action (and its timer)',
    guard: 'token',
    ok: { status: 204, description: 'removed' },
    errors: [],
  },
  {
    operationId: 'listJobExecutions',
    method: 'get',
    path: '/api/v1/jobs/{id}/executions',
    tag: 'executions',
    summary: 'Executions of a job, newest first',
    guard: 'token',
    parameters: ['Limit', 'Cursor', 'Status'],
    ok: { status: 200, schema: arrayOf('Execution'), headers: ['Link'], description: listed },
    errors: [],
  },
  {
    operationId: 'listExecutions',
    method: 'get',
    path: '/api/v1/executions',
    tag: 'executions',
    summary: 'Executions of every job, newest first, filtered',
    description:
      'Filters combine with AND. `since` (inclusive) and `until` (exclusive) are compared with `createdAt`. An unknown parameter is refused (400 validation_failed naming it), so a misspelt filter never answers the whole history. A `jobId` that names no job finds nothing.',
    guard: 'token',
    parameters: ['Limit', 'Cursor', 'Status', 'Trigger', 'JobId', 'Since', 'Until'],
    ok: { status: 200, schema: arrayOf('Execution'), headers: ['Link'], description: listed },
    errors: [],
  },
  {
    operationId: 'getExecution',
    method: 'get',
    path: '/api/v1/executions/{id}',
    tag: 'executions',
    summary: 'Read an execution',
    guard: 'token',
    ok: { status: 200, schema: ref('Execution'), description: 'the execution' },
    errors: [],
  },
  {
    operationId: 'setSchedule',
    method: 'post',
    path: '/api/v1/jobs/{id}/schedule',
    tag: 'schedules',
    summary: 'Set (or replace) the cron schedule',
    description:
      '`overlap` is what a tick does while an execution of the job is still active: `skip` (recorded SKIPPED), `allow` (another one starts) or `replace` (`replace`: `cancel` or `savepoint`, how the active one is stopped). `replace` with another overlap is 400 validation_failed, as are a bad cron expression or zone, and `endAt` not after `startAt`. With If-Match: "<version>", only while the job is at that version, else 412 precondition_failed.',
    guard: 'token',
    parameters: ['IfMatch'],
    body: { schema: 'ScheduleInput', required: true },
    ok: {
      status: 200,
      schema: ref('Job'),
      headers: ['ETag'],
      description: 'the job with its schedule; ETag: "<version>"',
    },
    errors: [],
  },
  {
    operationId: 'deleteSchedule',
    method: 'delete',
    path: '/api/v1/jobs/{id}/schedule',
    tag: 'schedules',
    summary: 'Remove the schedule',
    description: 'With If-Match: "<version>", only while the job is at that version, else 412 precondition_failed.',
    guard: 'token',
    parameters: ['IfMatch'],
    ok: { status: 204, description: 'removed (or there was none)' },
    errors: [],
  },
  {
    operationId: 'listSchedules',
    method: 'get',
    path: '/api/v1/schedules',
    tag: 'schedules',
    summary: 'All schedules with their next runs',
    guard: 'token',
    ok: { status: 200, schema: arrayOf('ScheduleEntry'), description: 'the schedules' },
    errors: [],
  },
  {
    operationId: 'createWebhook',
    method: 'post',
    path: '/api/v1/webhooks',
    tag: 'events',
    summary: 'Have events POSTed to a URL',
    description:
      '`events`: types (execution.failed), groups (execution.*) or *. `format`: json (the event, signed) or slack (an incoming-webhook `{"text"}` message). `secret` signs each delivery (HMAC-SHA256 over the timestamp and the body) and is write-only. The URL must pass the outbound guard (WEBHOOK_ALLOWED_HOSTS).',
    guard: 'token',
    body: { schema: 'WebhookCreate', required: true },
    ok: { status: 201, schema: ref('Webhook'), headers: ['Location'], description: 'created; Location names it' },
    errors: [],
  },
  {
    operationId: 'listWebhooks',
    method: 'get',
    path: '/api/v1/webhooks',
    tag: 'events',
    summary: 'List webhooks, oldest first',
    guard: 'token',
    parameters: ['Limit', 'Cursor'],
    ok: { status: 200, schema: arrayOf('Webhook'), headers: ['Link'], description: listed },
    errors: [],
  },
  {
    operationId: 'getWebhook',
    method: 'get',
    path: '/api/v1/webhooks/{webhookId}',
    tag: 'events',
    summary: 'Read a webhook',
    guard: 'token',
    ok: { status: 200, schema: ref('Webhook'), description: 'the webhook' },
    errors: [],
  },
  {
    operationId: 'updateWebhook',
    method: 'put',
    path: '/api/v1/webhooks/{webhookId}',
    tag: 'events',
    summary: 'Change a webhook; absent fields keep their value',
    description: '`enabled: true` on a webhook the service disabled clears why and since when it failed.',
    guard: 'token',
    body: { schema: 'WebhookUpdate', required: true },
    ok: { status: 200, schema: ref('Webhook'), description: 'the webhook' },
    errors: [],
  },
  {
    operationId: 'deleteWebhook',
    method: 'delete',
    path: '/api/v1/webhooks/{webhookId}',
    tag: 'events',
    summary: 'Delete a webhook and its deliveries',
    guard: 'token',
    ok: { status: 204, description: 'deleted' },
    errors: [],
  },
  {
    operationId: 'listWebhookDeliveries',
    method: 'get',
    path: '/api/v1/webhooks/{webhookId}/deliveries',
    tag: 'events',
    summary: "A webhook's deliveries, newest first",
    guard: 'token',
    parameters: ['Limit', 'Cursor'],
    ok: { status: 200, schema: arrayOf('WebhookDelivery'), headers: ['Link'], description: listed },
    errors: [],
  },
  {
    operationId: 'listEvents',
    method: 'get',
    path: '/api/v1/events',
    tag: 'events',
    summary: 'The event feed, oldest first',
    description:
      'Keep the `cursor` of the last event handled and ask again with `after=` it. An event shows once every transaction older than it has ended, so the feed never shows an event before one it has already shown.',
    guard: 'token',
    parameters: ['After', 'EventType', 'JobId', 'Limit'],
    ok: { status: 200, schema: arrayOf('Event'), headers: ['Link'], description: 'up to `limit` events' },
    errors: [],
  },
  {
    operationId: 'listAudit',
    method: 'get',
    path: '/api/v1/audit',
    tag: 'events',
    summary: 'The audit trail, newest first: who changed what through the API',
    description:
      'One entry per change (jobs, schedules, starts, stops, upgrades, savepoints, clusters, webhooks), written in the transaction of the change: the token name, the action, the target, what the request asked to change (secrets redacted) and its request id. Needs a write token (a read-only one: 403).',
    guard: 'token',
    parameters: ['JobId', 'Actor', 'Since', 'Limit', 'Cursor'],
    ok: { status: 200, schema: arrayOf('AuditEntry'), headers: ['Link'], description: listed },
    errors: ['forbidden'],
  },
];

/** Every error code an operation can answer: its own and those of its kind, as the middleware adds them. */
export function errorCodesOf(op: Operation): ErrorCode[] {
  const codes = new Set<ErrorCode>(op.errors);
  if (op.guard === 'metrics') codes.add('unauthorized');
  if (op.guard === 'token') {
    codes.add('unauthorized'); // requireToken: no valid token
    if (op.method !== 'get') codes.add('forbidden'); // a read-only token
    codes.add('dependency_unavailable'); // every /api operation reads PostgreSQL
  }
  if (op.body) BODY_CODES.forEach((code) => codes.add(code)); // requireJson and the body parser
  if (op.parameters?.some((name) => PARAMETERS[name]?.in === 'query')) codes.add('validation_failed');
  // ifMatchVersion: a malformed If-Match is a bad field, a stale one a failed precondition.
  if (op.parameters?.includes('IfMatch'))
    for (const c of ['validation_failed', 'precondition_failed'] as const) codes.add(c);
  // The router's `id` check: anything but a UUID names nothing.
  if (op.path.includes('{id}'))
    codes.add(op.path.startsWith('/api/v1/executions/') ? 'execution_not_found' : 'job_not_found');
  if (op.path.includes('{name}')) codes.add('cluster_not_found');
  if (op.path.includes('{savepointId}')) codes.add('savepoint_not_found');
  if (op.path.includes('{upgradeId}')) codes.add('upgrade_not_found');
  if (op.path.includes('{scheduleId}')) codes.add('schedule_not_found');
  if (op.path.includes('{webhookId}')) codes.add('webhook_not_found');
  if (op.path.includes('{flinkJobId}')) codes.add('validation_failed');
  codes.add('internal_error');
  return [...codes].sort((a, b) => ERROR_STATUS[a] - ERROR_STATUS[b] || a.localeCompare(b));
}

const header = (name: string) => ({ $ref: `#/components/headers/${name}` });

const HEADERS = {
  'X-Request-Id': {
    description: 'The request id: a sane incoming X-Request-Id, else a new UUID. Every log line carries it.',
    required: true,
    schema: { type: 'string', pattern: SAFE_REQUEST_ID.source },
  },
  ETag: {
    description: 'The job version as a strong entity tag; changes of the job take it back as If-Match.',
    required: true,
    schema: { type: 'string', pattern: '^"[1-9][0-9]*"$' },
  },
  Location: { description: 'Where the created resource is read.', required: true, schema: { type: 'string' } },
  Link: { description: '`<...>; rel="next"` when there is a next page.', schema: { type: 'string' } },
  'Retry-After': {
    description: 'Seconds to wait before trying again.',
    required: true,
    schema: { type: 'string', pattern: '^[0-9]+$' },
  },
  'WWW-Authenticate': { description: 'The scheme to use.', required: true, schema: { type: 'string' } },
};

const page = fromJoi(pageSchema).properties as Record<string, JsonSchema>;
const history = fromJoi(executionHistorySchema).properties as Record<string, JsonSchema>;
const feed = fromJoi(eventFeedSchema).properties as Record<string, JsonSchema>;
const audit = fromJoi(auditQuerySchema).properties as Record<string, JsonSchema>;
const instant = (name: string, what: string) => ({
  name,
  in: 'query',
  description: `${what}: an ISO 8601 date ("2026-12-01", midnight UTC) or date-time with Z or an offset ("2026-12-01T08:00:00%2B01:00"); a time without a zone is refused, and a "+" left unencoded (a space) is read as "+".`,
  schema: { ...history[name], pattern: INSTANT.source },
});

const PARAMETERS: Record<string, { in: string } & JsonSchema> = {
  Id: {
    name: 'id',
    in: 'path',
    required: true,
    description: 'a UUID; any other value names nothing (404)',
    schema: { type: 'string', format: 'uuid' },
  },
  Name: {
    name: 'name',
    in: 'path',
    required: true,
    description: 'a cluster name; one that is not a slug names nothing (404)',
    schema: { type: 'string', pattern: CLUSTER_NAME.source },
  },
  FlinkJobId: {
    name: 'flinkJobId',
    in: 'path',
    required: true,
    description: 'a Flink JobID: 32 hexadecimal digits; anything else is 400 validation_failed',
    schema: { type: 'string', pattern: FLINK_JOB_ID.source },
  },
  SavepointId: {
    name: 'savepointId',
    in: 'path',
    required: true,
    description: 'a UUID; any other value names nothing (404)',
    schema: { type: 'string', format: 'uuid' },
  },
  ScheduleId: {
    name: 'scheduleId',
    in: 'path',
    required: true,
    description: 'a UUID; any other value names nothing (404)',
    schema: { type: 'string', format: 'uuid' },
  },
  UpgradeId: {
    name: 'upgradeId',
    in: 'path',
    required: true,
    description: 'a UUID; any other value names nothing (404)',
    schema: { type: 'string', format: 'uuid' },
  },
  WebhookId: {
    name: 'webhookId',
    in: 'path',
    required: true,
    description: 'a UUID; any other value names nothing (404)',
    schema: { type: 'string', format: 'uuid' },
  },
  Actor: { name: 'actor', in: 'query', description: 'an API token name', schema: audit.actor },
  After: { name: 'after', in: 'query', description: "an event's `cursor`", schema: feed.after },
  EventType: { name: 'type', in: 'query', description: 'comma-separated types or groups', schema: feed.type },
  Limit: { name: 'limit', in: 'query', description: 'page size', schema: page.limit },
  Cursor: { name: 'cursor', in: 'query', description: 'from the Link of the page before', schema: page.cursor },
  Status: { name: 'status', in: 'query', schema: history.status },
  Trigger: { name: 'trigger', in: 'query', schema: history.trigger },
  JobId: { name: 'jobId', in: 'query', schema: history.jobId },
  Since: instant('since', 'inclusive'),
  Until: instant('until', 'exclusive, and later than since'),
  Validate: {
    name: 'validate',
    in: 'query',
    description:
      'true: check the job on its Flink cluster before saving (as POST /api/v1/jobs/{id}/validate does); nothing is saved when the check fails',
    schema: (fromJoi(jobWriteQuerySchema).properties as Record<string, JsonSchema>).validate,
  },
  IfMatch: {
    name: 'If-Match',
    in: 'header',
    description:
      'The version the change is based on: "3" (the ETag), 3 or W/"3"; * or none means any version. A job at another version: 412 precondition_failed, nothing changed.',
    schema: { type: 'string', examples: ['"3"', '3', '*'] },
  },
};

/** The request bodies; `config` is the one ProgramConfig (joi-to-json cannot say what it allows). */
function requestBody(schema: Parameters<typeof fromJoi>[0]): JsonSchema {
  const converted = fromJoi(schema);
  const properties = converted.properties as Record<string, JsonSchema>;
  if (properties.config) properties.config = ref('ProgramConfig');
  return converted;
}

const text = (maxLength: number) => ({ type: 'string', minLength: 1, maxLength });
const credentials = (type: string, fields: Record<string, JsonSchema>) => ({
  type: 'object',
  required: ['type', ...Object.keys(fields)],
  properties: { type: { const: type }, ...fields },
  additionalProperties: false,
});

/**
 * A cluster body. `auth` is written out here (joi-to-json makes only its `null` of the joi
 * alternatives), with the same limits as clusters/validation.ts; it is write-only.
 */
function clusterBody(schema: Parameters<typeof fromJoi>[0]): JsonSchema {
  const converted = fromJoi(schema);
  const properties = converted.properties as Record<string, JsonSchema>;
  properties.auth = {
    description:
      'credentials for a JobManager behind an authenticating proxy, sent as its Authorization header; write-only: answers give only the type. null removes them.',
    writeOnly: true,
    anyOf: [
      credentials('basic', { username: text(255), password: text(1024) }),
      credentials('bearer', { token: text(4096) }),
      { type: 'null' },
    ],
  };
  return converted;
}

/** A webhook body; its secret is write-only. */
function webhookBody(schema: Parameters<typeof fromJoi>[0]): JsonSchema {
  const converted = fromJoi(schema);
  const properties = converted.properties as Record<string, JsonSchema>;
  properties.secret = { ...properties.secret, writeOnly: true };
  return converted;
}

const REQUEST_BODIES: Record<string, JsonSchema> = {
  JobCreate: requestBody(createJobSchema),
  JobUpdate: requestBody(updateJobSchema),
  ClusterCreate: clusterBody(createClusterSchema),
  ClusterUpdate: clusterBody(updateClusterSchema),
  StartOptions: requestBody(startSchema),
  StopOptions: requestBody(stopSchema),
  UpgradeRequest: requestBody(upgradeSchema),
  ActionScheduleCreate: requestBody(actionScheduleSchema),
  ScheduleInput: requestBody(scheduleSchema),
  WebhookCreate: webhookBody(createWebhookSchema),
  WebhookUpdate: webhookBody(updateWebhookSchema),
};

function answer(a: Answer): object {
  return {
    description: a.description,
    headers: {
      'X-Request-Id': header('X-Request-Id'),
      ...Object.fromEntries((a.headers ?? []).map((name) => [name, header(name)])),
    },
    ...(a.schema ? { content: { [a.mediaType ?? 'application/json']: { schema: a.schema } } } : {}),
  };
}

/** The error answers of one status: the Error shape, with the codes this operation can give. */
function errorAnswer(status: number, codes: ErrorCode[]): object {
  return {
    description: codes.map((code) => `\`${code}\``).join(', '),
    headers: {
      'X-Request-Id': header('X-Request-Id'),
      ...(status === 401 ? { 'WWW-Authenticate': header('WWW-Authenticate') } : {}),
      ...(status === 503 ? { 'Retry-After': header('Retry-After') } : {}),
    },
    content: {
      'application/json': {
        schema: {
          allOf: [ref('Error')],
          properties: {
            error: {
              ...(status >= 500 ? { required: ['requestId'] } : {}),
              properties: { code: { enum: codes } },
            },
          },
        },
      },
    },
  };
}

function responsesOf(op: Operation): Record<string, object> {
  const responses: Record<string, object> = {};
  for (const a of [op.ok, ...(op.others ?? [])]) responses[a.status] = answer(a);
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of errorCodesOf(op))
    byStatus.set(ERROR_STATUS[code], [...(byStatus.get(ERROR_STATUS[code]) ?? []), code]);
  for (const [status, codes] of byStatus) responses[status] = errorAnswer(status, codes);
  return responses;
}

const SECURITY: Record<Guard, object[] | undefined> = {
  none: [],
  metrics: [{ metricsToken: [] }, {}],
  token: undefined, // the document's default
};

const TAGS: { name: Tag; description: string }[] = [
  { name: 'jobs', description: 'Job definitions: a JAR, an entry class, a config' },
  { name: 'clusters', description: 'The Flink clusters jobs run on' },
  { name: 'executions', description: 'Starting and stopping jobs, and the history of their runs' },
  { name: 'savepoints', description: 'Savepoints as records: taken, listed, disposed of through Flink' },
  { name: 'upgrades', description: 'Upgrades that keep state: stop with a savepoint, change, start from it' },
  { name: 'schedules', description: 'Cron schedules' },
  { name: 'events', description: 'Events out: the feed, and webhooks that receive it' },
  { name: 'operations', description: 'Health and metrics' },
  { name: 'docs', description: 'This description' },
];

export function openApiDocument(): object {
  const paths: Record<string, Record<string, object>> = {};
  for (const op of OPERATIONS) {
    const parameters = [
      ...(op.path.includes('{id}') ? ['Id'] : []),
      ...(op.path.includes('{name}') ? ['Name'] : []),
      ...(op.path.includes('{flinkJobId}') ? ['FlinkJobId'] : []),
      ...(op.path.includes('{savepointId}') ? ['SavepointId'] : []),
      ...(op.path.includes('{upgradeId}') ? ['UpgradeId'] : []),
      ...(op.path.includes('{scheduleId}') ? ['ScheduleId'] : []),
      ...(op.path.includes('{webhookId}') ? ['WebhookId'] : []),
      ...(op.parameters ?? []),
    ];
    const security = SECURITY[op.guard];
    (paths[op.path] ??= {})[op.method] = {
      operationId: op.operationId,
      tags: [op.tag],
      summary: op.summary,
      ...(op.description ? { description: op.description } : {}),
      ...(security ? { security } : {}),
      ...(parameters.length
        ? { parameters: parameters.map((name) => ({ $ref: `#/components/parameters/${name}` })) }
        : {}),
      ...(op.body
        ? {
            requestBody: {
              required: op.body.required,
              content: { 'application/json': { schema: ref(op.body.schema) } },
            },
          }
        : {}),
      responses: responsesOf(op),
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Flink orchestrator API',
      version: '1.0.0',
      description:
        'Define, start, stop and schedule Apache Flink jobs. Every /api route needs an API token (`Authorization: Bearer <token>`, or HTTP basic auth with the token as password); a read-only token may not change anything (403). Errors are `{"error": {"code", "message", "details"?}}` with a stable code.',
    },
    tags: TAGS,
    security: [{ apiToken: [] }, { apiTokenBasic: [] }],
    paths,
    components: {
      schemas: { ...COMPONENT_SCHEMAS, ...REQUEST_BODIES },
      parameters: PARAMETERS,
      headers: HEADERS,
      securitySchemes: {
        apiToken: { type: 'http', scheme: 'bearer', description: 'An API token (API_TOKENS or API_READ_TOKENS)' },
        apiTokenBasic: { type: 'http', scheme: 'basic', description: 'Any user name, the API token as password' },
        metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN, when it is set' },
      },
    },
  };
}
