import type { FlinkTestDouble } from '@flink-orchestrator/flink-test-double';
import { expect } from 'chai';
import { Client } from 'pg';
import { Gate } from '../../support/gate';
import type { PipelineHarness } from '../../support/pipeline-harness';
import { waitFor } from '../../support/wait';
import type { ServiceProcess } from '../../support/worker-processes';
import { terminateBlockedBackends, type RowLock } from './row-locks';

/** Trials per stage, run side by side (one job each); FAULT_TRIALS overrides it for a local run. */
export const TRIALS = Number(process.env.FAULT_TRIALS ?? 10);

export const STREAMING = 'org.apache.flink.streaming.examples.windowing.TopSpeedWindowing';

export const flinkIdOf = (executionId: string) => executionId.replace(/-/g, '');

/**
 * The workers of the round-two kill tests: chores every second (the restart sweep, the
 * abandoning of stale ticks, upgrades re-queued), an upgrade confirmed after half a second,
 * and a webhook answer awaited far longer than any hold, so that only the kill ends one.
 */
export const KILL_WORKER_ENV: Record<string, string> = {
  WORKER_CONCURRENCY: '20',
  RECONCILE_INTERVAL_MS: '1000',
  UPGRADE_CONFIRM_MS: '500',
  WEBHOOK_TIMEOUT_MS: '60000',
  WEBHOOK_BACKOFF_MS: '100',
  WEBHOOK_BACKOFF_MAX_MS: '1000',
  EVENT_RELAY_INTERVAL_MS: '50',
};

/**
 * The stage's trials side by side, numbered from 1; fails naming every trial that failed,
 * so a failure says which trial (and its job) broke the promise.
 */
export async function eachTrial<T, R>(items: readonly T[], fn: (item: T, trial: number) => Promise<R>): Promise<R[]> {
  const settled = await Promise.allSettled(items.map((item, i) => fn(item, i + 1)));
  const failures = settled.flatMap((s, i) =>
    s.status === 'rejected'
      ? [`trial ${i + 1}/${items.length}: ${(s.reason as Error)?.stack ?? String(s.reason)}`]
      : [],
  );
  if (failures.length > 0)
    throw new Error(`${failures.length} of ${items.length} trials failed:\n${failures.join('\n')}`);
  return settled.map((s) => (s as PromiseFulfilledResult<R>).value);
}

/**
 * SIGKILLs every worker of the harness; then ends the dead workers' statements still blocked
 * on the test's row locks, releases those locks and `released` (the held Flink requests or
 * webhook answers), and starts `count` new workers (one: the harnesses run one worker, so
 * that every trial's stage is held in the process that is killed).
 */
export async function killWorkersAndReplace(
  h: PipelineHarness,
  options: { locks?: readonly RowLock[]; released?: () => void; count?: number } = {},
): Promise<void> {
  const victims = h.workers.splice(0);
  await Promise.all(victims.map((w: ServiceProcess) => w.kill('SIGKILL')));
  const locks = options.locks ?? [];
  if (locks.length > 0) {
    await terminateBlockedBackends(h.databaseUrl, locks);
    await Promise.all(locks.map((l) => l.release()));
  }
  options.released?.();
  h.workers.push(...(await h.addWorkers(options.count ?? 1)));
}

/**
 * Holds the Flink requests `match` picks (path without /v1) before the double handles them,
 * until `release()`: `held` lists them as "METHOD path". The double has one request hook:
 * one of these at a time.
 */
export class HeldFlinkRequests {
  private readonly gate = new Gate();

  constructor(
    private readonly flink: FlinkTestDouble,
    match: (method: string, path: string) => boolean,
  ) {
    flink.setRequestHook(async (method, path) => {
      if (match(method, path)) await this.gate.pass(`${method} ${path}`);
    });
  }

  get held(): readonly string[] {
    return this.gate.held;
  }

  release(): void {
    this.flink.setRequestHook(null);
    this.gate.open();
  }
}

/** One query on the harness's database, for the checks made before a kill. */
export async function query<T extends Record<string, unknown>>(
  databaseUrl: string,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    return (await db.query<T>(sql, params)).rows;
  } finally {
    await db.end();
  }
}

/** Starts `count` jobs of `entryClass` and waits for each to be RUNNING. */
export async function runningJobs(
  h: PipelineHarness,
  count: number,
  overrides: Record<string, unknown> = {},
): Promise<{ job: any; execution: any }[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const job = await h.createJob(STREAMING, overrides);
      const execution = await h.waitForStatus((await h.start202(job.id)).id, 'RUNNING', 60_000);
      return { job, execution };
    }),
  );
}

/** Stops (cancels) the jobs and waits until none of their executions is active. */
export async function stopJobs(h: PipelineHarness, jobIds: readonly string[]): Promise<void> {
  await Promise.all(
    jobIds.map(async (id) => {
      await h.http.post(`/api/v1/jobs/${id}/stop`);
      await waitFor(
        `job ${id} to have nothing active`,
        async () => {
          const rows = (await h.http.get(`/api/v1/jobs/${id}/executions`)).body as { status: string }[];
          return rows.every((e) => !['QUEUED', 'SUBMITTING', 'RUNNING', 'STOPPING'].includes(e.status));
        },
        60_000,
      );
    }),
  );
}

/** The Flink jobs of one job's executions that Flink still runs (not ended, not ending). */
export function liveFlinkJobs(flink: FlinkTestDouble, executions: readonly { flinkJobId: string | null }[]): string[] {
  const live = ['CREATED', 'INITIALIZING', 'RUNNING', 'RESTARTING'];
  return executions
    .map((e) => e.flinkJobId)
    .filter((jid): jid is string => jid !== null && live.includes(flink.job(jid)?.state ?? ''));
}

/**
 * How long each stage's phases took, in ms from the stage's start (`held`: every trial at the
 * stage and checked; `replaced`: the new worker up; `settled`: every promise asserted).
 * Printed once the file is done, for the report in docs/reliability.md.
 */
export class StageTimes {
  private readonly stages: Record<string, Record<string, number>> = {};

  begin(stage: string): (phase: string) => void {
    const began = Date.now();
    const phases: Record<string, number> = {};
    this.stages[stage] = phases;
    return (phase) => {
      phases[phase] = Date.now() - began;
    };
  }

  print(file: string): void {
    process.stdout.write(`      ${file} stage times (ms, ${TRIALS} trials each): ${JSON.stringify(this.stages)}\n`);
  }
}

/** A six-field cron that fires once this year: at `at`'s second, in UTC. */
export function cronOnceAt(at: Date): string {
  return `${at.getUTCSeconds()} ${at.getUTCMinutes()} ${at.getUTCHours()} ${at.getUTCDate()} ${at.getUTCMonth() + 1} *`;
}

/** A whole second `ms` or more from now: the instant a one-shot action schedule fires. */
export function secondsFromNow(ms: number): Date {
  return new Date(Math.ceil((Date.now() + ms) / 1000) * 1000);
}

/**
 * An action schedule of the job that fires once, at `at`; fails when it was created too late
 * for that tick (its timer would fire next year, and the catch-up only acts on ticks older
 * than the misfire grace).
 */
export async function scheduleOnceAt(
  h: PipelineHarness,
  jobId: string,
  body: Record<string, unknown>,
  at: Date,
): Promise<{ id: string }> {
  const res = await h.http.post(`/api/v1/jobs/${jobId}/schedules`, { ...body, cron: cronOnceAt(at) });
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  expect(res.body.nextRuns[0], `the schedule of job ${jobId} was created after its tick`).to.equal(at.toISOString());
  return res.body;
}
