import { EXECUTION_STATUSES, OVERLAP_POLICIES, REPLACE_MODES } from '@flink-orchestrator/domain';
import type Joi from 'joi';
import parse from 'joi-to-json';
import { createJobSchema, scheduleSchema, startSchema, stopSchema, updateJobSchema } from './validation';

/**
 * The OpenAPI 3.1 description of the API. Request bodies are generated from the very joi
 * schemas the routes validate with; a test checks that every route is described and every
 * description has a route.
 */
type Method = 'get' | 'post' | 'put' | 'delete';

interface Operation {
  method: Method;
  path: string;
  summary: string;
  body?: Joi.Schema;
  query?: Record<string, object>;
  headers?: Record<string, object>;
  ok: { status: number; schema?: object; description: string };
  errors: number[];
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const arrayOf = (name: string) => ({ type: 'array', items: ref(name) });
const page = { limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 }, cursor: { type: 'string' } };

export const OPERATIONS: Operation[] = [
  {
    method: 'get',
    path: '/health',
    summary: 'Readiness: PostgreSQL and Redis reachable',
    ok: { status: 200, schema: ref('Health'), description: 'healthy' },
    errors: [503],
  },
  {
    method: 'get',
    path: '/health/live',
    summary: 'Liveness',
    ok: { status: 200, description: 'the process runs' },
    errors: [],
  },
  {
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics',
    ok: { status: 200, description: 'text exposition format' },
    errors: [401],
  },
  {
    method: 'post',
    path: '/api/v1/jobs',
    summary: 'Create a job',
    body: createJobSchema,
    ok: { status: 201, schema: ref('Job'), description: 'created; Location names it' },
    errors: [400, 409, 413, 415, 503],
  },
  {
    method: 'get',
    path: '/api/v1/jobs',
    summary: 'List jobs, oldest first',
    query: page,
    ok: { status: 200, schema: arrayOf('Job'), description: 'a page; Link rel="next" when there is more' },
    errors: [400, 503],
  },
  {
    method: 'get',
    path: '/api/v1/jobs/{id}',
    summary: 'Read a job',
    ok: { status: 200, schema: ref('Job'), description: 'the job; ETag: "<version>"' },
    errors: [404, 503],
  },
  {
    method: 'put',
    path: '/api/v1/jobs/{id}',
    summary:
      'Change a job (absent fields keep their value). If-Match: "<version>" or a `version` field: 409 job_modified when the job is at another version',
    body: updateJobSchema,
    headers: { 'If-Match': { type: 'string', examples: ['"3"', '3', '*'] } },
    ok: { status: 200, schema: ref('Job'), description: 'the job; ETag: "<version>"' },
    errors: [400, 404, 409, 503],
  },
  {
    method: 'delete',
    path: '/api/v1/jobs/{id}',
    summary: 'Delete a job and its history',
    ok: { status: 204, description: 'deleted' },
    errors: [404, 409, 503],
  },
  {
    method: 'post',
    path: '/api/v1/jobs/{id}/start',
    summary: 'Start an execution',
    body: startSchema,
    ok: { status: 202, schema: ref('Execution'), description: 'queued; Location names it' },
    errors: [400, 404, 409, 503],
  },
  {
    method: 'post',
    path: '/api/v1/jobs/{id}/stop',
    summary: 'Stop the active execution (cancel, or stop with savepoint)',
    body: stopSchema,
    ok: { status: 202, schema: ref('Execution'), description: 'stopping' },
    errors: [400, 404, 409, 503],
  },
  {
    method: 'get',
    path: '/api/v1/jobs/{id}/executions',
    summary: 'Executions of a job, newest first',
    query: { ...page, status: { enum: [...EXECUTION_STATUSES] } },
    ok: { status: 200, schema: arrayOf('Execution'), description: 'a page' },
    errors: [400, 404, 503],
  },
  {
    method: 'get',
    path: '/api/v1/executions',
    summary:
      'Executions of every job, newest first, filtered; since (inclusive) and until (exclusive) are ISO 8601 instants compared with createdAt. Unknown parameters are refused.',
    query: {
      ...page,
      status: { enum: [...EXECUTION_STATUSES] },
      trigger: { enum: ['manual', 'schedule'] },
      jobId: { type: 'string', format: 'uuid' },
      since: { type: 'string', format: 'date-time' },
      until: { type: 'string', format: 'date-time' },
    },
    ok: { status: 200, schema: arrayOf('Execution'), description: 'a page; Link rel="next" when there is more' },
    errors: [400, 503],
  },
  {
    method: 'get',
    path: '/api/v1/executions/{id}',
    summary: 'Read an execution',
    ok: { status: 200, schema: ref('Execution'), description: 'the execution' },
    errors: [404, 503],
  },
  {
    method: 'post',
    path: '/api/v1/jobs/{id}/schedule',
    summary: 'Set (or replace) the cron schedule',
    body: scheduleSchema,
    ok: { status: 200, schema: ref('Job'), description: 'the job with its schedule' },
    errors: [400, 404, 503],
  },
  {
    method: 'delete',
    path: '/api/v1/jobs/{id}/schedule',
    summary: 'Remove the schedule',
    ok: { status: 204, description: 'removed (or there was none)' },
    errors: [404, 503],
  },
  {
    method: 'get',
    path: '/api/v1/schedules',
    summary: 'All schedules with their next runs',
    ok: { status: 200, schema: { type: 'array', items: ref('ScheduleEntry') }, description: 'schedules' },
    errors: [503],
  },
];

const nullable = (type: string, extra: object = {}) => ({ type: [type, 'null'], ...extra });
const dateTime = { type: 'string', format: 'date-time' };

const SCHEDULE = {
  type: 'object',
  properties: {
    cron: { type: 'string' },
    timezone: { type: 'string' },
    overlap: { enum: [...OVERLAP_POLICIES] },
    replace: { enum: [...REPLACE_MODES, null] },
    startAt: nullable('string', { format: 'date-time' }),
    endAt: nullable('string', { format: 'date-time' }),
    nextRuns: { type: 'array', items: dateTime },
    lastRunAt: nullable('string', { format: 'date-time' }),
    paused: { type: 'boolean' },
  },
};

const COMPONENTS = {
  Job: {
    type: 'object',
    properties: {
      id: { type: 'string', format: 'uuid' },
      name: { type: 'string' },
      jarURL: { type: 'string' },
      entryClass: nullable('string'),
      config: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } },
      parallelism: nullable('integer'),
      enabled: { type: 'boolean' },
      version: { type: 'integer', description: 'goes up with every change; also the ETag' },
      schedule: { oneOf: [SCHEDULE, { type: 'null' }] },
      createdAt: dateTime,
      updatedAt: dateTime,
    },
  },
  Execution: {
    type: 'object',
    properties: {
      id: { type: 'string', format: 'uuid' },
      jobId: { type: 'string', format: 'uuid' },
      trigger: { enum: ['manual', 'schedule'] },
      status: { enum: [...EXECUTION_STATUSES] },
      flinkState: nullable('string'),
      flinkJobId: nullable('string'),
      flinkJarId: nullable('string'),
      savepointPath: nullable('string'),
      savepointLocation: nullable('string'),
      definition: {
        description:
          'What the execution runs, copied from the job when it was created; null when it runs nothing (SKIPPED, MISSED) or predates these records and has not been submitted',
        oneOf: [
          {
            type: 'object',
            properties: {
              jarURL: { type: 'string' },
              entryClass: nullable('string'),
              config: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } },
              programArgs: { type: 'array', items: { type: 'string' } },
              parallelism: nullable('integer'),
              savepointPath: nullable('string'),
              allowNonRestoredState: { type: 'boolean' },
              jobVersion: { type: 'integer' },
            },
          },
          { type: 'null' },
        ],
      },
      errorMessage: nullable('string'),
      attempt: { type: 'integer' },
      scheduledFor: nullable('string', { format: 'date-time' }),
      createdAt: dateTime,
      submittedAt: nullable('string', { format: 'date-time' }),
      startedAt: nullable('string', { format: 'date-time' }),
      finishedAt: nullable('string', { format: 'date-time' }),
    },
  },
  ScheduleEntry: {
    allOf: [SCHEDULE, { type: 'object', properties: { jobId: { type: 'string' }, jobName: { type: 'string' } } }],
  },
  Health: {
    type: 'object',
    properties: {
      status: { enum: ['ok', 'unavailable'] },
      checks: { type: 'object', additionalProperties: { enum: ['ok', 'unavailable'] } },
    },
  },
  Error: {
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: {
          code: { type: 'string' },
          message: { type: 'string' },
          details: {},
          requestId: { type: 'string' },
        },
      },
    },
  },
};

export function openApiDocument(): object {
  const paths: Record<string, Record<string, object>> = {};
  for (const op of OPERATIONS) {
    const parameters = [
      ...(op.path.includes('{id}')
        ? [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }]
        : []),
      ...Object.entries(op.query ?? {}).map(([name, schema]) => ({ name, in: 'query', required: false, schema })),
      ...Object.entries(op.headers ?? {}).map(([name, schema]) => ({ name, in: 'header', required: false, schema })),
    ];
    const responses: Record<string, object> = {
      [op.ok.status]: {
        description: op.ok.description,
        ...(op.ok.schema ? { content: { 'application/json': { schema: op.ok.schema } } } : {}),
      },
    };
    for (const status of op.errors)
      responses[status] = { description: 'error', content: { 'application/json': { schema: ref('Error') } } };
    (paths[op.path] ??= {})[op.method] = {
      summary: op.summary,
      ...(parameters.length ? { parameters } : {}),
      ...(op.body
        ? {
            requestBody: {
              required: false,
              content: { 'application/json': { schema: parse(op.body, 'open-api-3.1') } },
            },
          }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Flink orchestrator API',
      version: '1.0.0',
      description: 'Define, start, stop and schedule Apache Flink jobs.',
    },
    components: { schemas: COMPONENTS, securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    security: [{ bearer: [] }],
    paths,
  };
}
