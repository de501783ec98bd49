import type Router from '@koa/router';
import {
  DEFAULT_CLUSTER,
  restartPolicyOf,
  type AdmissionMode,
  type DefinitionCheck,
  type Job,
  type JobChanges,
  type NewJob,
  type ProgramConfig,
  type RestartPolicy,
  type SavepointRetention,
  type ScheduleInput,
} from '@flink-orchestrator/domain';
import type { Context } from 'koa';
import type { ApiDependencies } from '../deps';
import { pageOf, readPage } from '../pagination';
import { HttpProblem } from '../problem';
import { ifMatched, ifMatchVersion } from '../if-match';
import { validate } from '../shared/validation';
import { createJobSchema, jobWriteQuerySchema, updateJobSchema } from './validation';
import { jobETag, jobView, validationView } from './views';

interface JobBody {
  name?: string;
  jarURL?: string;
  entryClass?: string | null;
  config?: ProgramConfig;
  parallelism?: number | null;
  enabled?: boolean;
  scheduleCron?: string;
  cluster?: string;
  admission?: AdmissionMode;
  restartPolicy?: Partial<RestartPolicy> | null;
  savepointRetention?: SavepointRetention | null;
  version?: number;
}

/**
 * The version a PUT is based on: If-Match (see `ifMatchVersion`) or a `version` field in the
 * body; both must agree. `fromHeader` says whether If-Match named it (a stale one is 412).
 */
function expectedVersion(ctx: Context, body: JobBody): { version?: number; fromHeader?: number } {
  const fromHeader = ifMatchVersion(ctx);
  if (fromHeader !== undefined && body.version !== undefined && fromHeader !== body.version) {
    const message = `"version" ${body.version} contradicts If-Match ${ctx.get('If-Match').trim()}`;
    throw new HttpProblem(400, 'validation_failed', message, [{ field: 'version', message }]);
  }
  return { version: fromHeader ?? body.version, fromHeader };
}

function changesFrom(body: JobBody): JobChanges {
  const changes: JobChanges = {};
  if (body.name !== undefined) changes.name = body.name;
  if (body.jarURL !== undefined) changes.jarUrl = body.jarURL;
  if (body.entryClass !== undefined) changes.entryClass = body.entryClass;
  if (body.config !== undefined) changes.config = body.config;
  if (body.parallelism !== undefined) changes.parallelism = body.parallelism;
  if (body.enabled !== undefined) changes.enabled = body.enabled;
  if (body.cluster !== undefined) changes.cluster = body.cluster;
  if (body.admission !== undefined) changes.admission = body.admission;
  if (body.restartPolicy !== undefined) changes.restartPolicy = restartPolicyOf(body.restartPolicy);
  if (body.savepointRetention !== undefined) changes.savepointRetention = body.savepointRetention;
  return changes;
}

/** `scheduleCron`, the original service's field: a schedule with default settings. */
function shorthandSchedule(body: JobBody, current: Job | null): ScheduleInput | undefined {
  if (body.scheduleCron === undefined) return undefined;
  const keep = current?.schedule;
  return {
    cron: body.scheduleCron,
    timezone: keep?.timezone ?? 'UTC',
    overlap: keep?.overlap ?? 'skip',
    replace: keep?.replace ?? null,
    startAt: keep?.startAt ?? null,
    endAt: keep?.endAt ?? null,
    preflightMinutes: keep?.preflightMinutes ?? null,
  };
}

/** With `?validate=true`, the check a write runs on Flink before it saves anything. */
function checkOf(ctx: Context, deps: ApiDependencies): { check?: DefinitionCheck } {
  const query = validate<{ validate?: boolean }>(
    jobWriteQuerySchema,
    { validate: ctx.query.validate },
    { convert: true },
  );
  return query.validate ? { check: (definition) => deps.validation.definition(definition) } : {};
}

export function jobRoutes(router: Router, deps: ApiDependencies): void {
  const view = (job: Job) => jobView(job, deps.schedules.nextRuns(job, deps.clock.now()));
  /** The job as the body, its version as the ETag. */
  const answer = (ctx: Context, job: Job) => {
    ctx.set('ETag', jobETag(job));
    ctx.body = view(job);
  };

  router.post('/api/v1/jobs', async (ctx) => {
    const body = validate<JobBody>(createJobSchema, ctx.request.body);
    const options = checkOf(ctx, deps);
    const job: NewJob = {
      name: body.name as string,
      jarUrl: body.jarURL as string,
      entryClass: body.entryClass ?? null,
      config: body.config ?? {},
      parallelism: body.parallelism ?? null,
      enabled: body.enabled ?? true,
      cluster: body.cluster ?? DEFAULT_CLUSTER,
      admission: body.admission ?? 'slots',
      restartPolicy: restartPolicyOf(body.restartPolicy),
      savepointRetention: body.savepointRetention ?? null,
    };
    const created = await deps.jobs.create(job, shorthandSchedule(body, null), options);
    ctx.status = 201;
    ctx.set('Location', `/api/v1/jobs/${created.id}`);
    answer(ctx, created);
  });

  router.get('/api/v1/jobs', async (ctx) => {
    const { page, limit } = readPage(ctx);
    ctx.body = pageOf(ctx, await deps.jobs.list(page), limit).map(view);
  });

  router.get('/api/v1/jobs/:id', async (ctx) => {
    answer(ctx, await deps.jobs.get(ctx.params.id as string));
  });

  router.put('/api/v1/jobs/:id', async (ctx) => {
    const body = validate<JobBody>(updateJobSchema, ctx.request.body);
    const { version, fromHeader } = expectedVersion(ctx, body);
    const options = checkOf(ctx, deps);
    const id = ctx.params.id as string;
    const schedule = body.scheduleCron === undefined ? undefined : shorthandSchedule(body, await deps.jobs.get(id));
    answer(ctx, await ifMatched(fromHeader, () => deps.jobs.update(id, changesFrom(body), schedule, version, options)));
  });

  // Uploads the JAR to the job's cluster (once per content) and has Flink build the job's plan,
  // running its main(): what a start would do, short of running the job.
  router.post('/api/v1/jobs/:id/validate', async (ctx) => {
    ctx.body = validationView(await deps.validation.job(ctx.params.id as string));
  });

  router.delete('/api/v1/jobs/:id', async (ctx) => {
    const version = ifMatchVersion(ctx);
    await ifMatched(version, () => deps.jobs.delete(ctx.params.id as string, version));
    ctx.status = 204;
  });
}
