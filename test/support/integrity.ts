import { expect } from 'chai';
import { Client } from 'pg';
import type { PipelineHarness } from './pipeline-harness';

/**
 * What "exactly once on Flink" means here, checked against what Flink (the test double, or a
 * real cluster seen through ./flink-proxy) received and what PostgreSQL recorded:
 *
 * 1. Flink accepted at most one submission per execution.
 * 2. Every run request is explained. One is sent only after the execution recorded
 *    `run_requested_at`, under the execution's JobID. Another one for the same execution is
 *    sent only when the previous one's outcome never reached the worker, because the worker
 *    died or timed out before the answer (not delivered), or because Flink answered 5xx
 *    (a retry). After an answer that reached it (200 accepted, 400 duplicate, …) a worker asks
 *    GET /jobs/:jid instead of sending the request again. So a second, refused, request after
 *    a crash is allowed, and a resubmission after Flink had answered is not.
 * 3. No orphan: every Flink job that has not ended belongs to an execution that is still
 *    active here (SUBMITTING, RUNNING or STOPPING).
 * 4. An execution that ended here ended on Flink the same way: FINISHED and STOPPED on a
 *    FINISHED job, CANCELLED on CANCELED, FAILED on FAILED; a LOST one is a job Flink does not know.
 *
 * 5. Every cluster is looked at, and a Flink job runs on the cluster its execution was sent to.
 * 6. One Flink job per definition: a job (unless its schedule's overlap is `allow`) never has
 *    two Flink jobs running at once, on one cluster or across clusters: an upgrade, a restart or
 *    a `replace` tick starts the new run only once the old one is ending.
 * 7. One execution per failure, per upgrade and per schedule tick, and one row per action tick
 *    (the unique indexes that promise it are still there and hold).
 *
 * 3, 4 and 6 hold at every instant, not only once things have settled: Flink may end a job
 * before the tracker notices, but nothing here may end before Flink did.
 */

export interface FlinkJobSummary {
  jid: string;
  state: string;
  /** The cluster it was read from (`default` when one cluster is looked at). */
  cluster?: string;
}

/** One POST /jars/:id/run as the double or the proxy received it (a RunRequestRecord fits). */
export interface RunRequestFact {
  jobId: string | null;
  at: number;
  status: number | null;
  outcome: 'accepted' | 'duplicate' | 'refused' | null;
  delivered: boolean | null;
  /** The cluster that received it. */
  cluster?: string;
}

export interface ExecutionFact {
  id: string;
  status: string;
  flinkJobId: string | null;
  runRequestedAt: Date | null;
  /** The cluster the execution was sent to, its job, and whether that job's runs may overlap. */
  cluster?: string;
  jobId?: string;
  overlapAllowed?: boolean;
}

/** Flink's globally terminal job states. */
export const FLINK_ENDED: ReadonlySet<string> = new Set(['FINISHED', 'CANCELED', 'FAILED']);
const ACTIVE: ReadonlySet<string> = new Set(['QUEUED', 'SUBMITTING', 'RUNNING', 'STOPPING']);
/** Flink states of a job that is on its way out: its successor may already be submitted. */
const ENDING: ReadonlySet<string> = new Set([...FLINK_ENDED, 'CANCELLING', 'FAILING', 'SUSPENDED']);
/** An ended execution, and the Flink state its job must have ended in (null: Flink must not know it). */
const ENDED_AS: Record<string, string | null> = {
  FINISHED: 'FINISHED',
  STOPPED: 'FINISHED',
  CANCELLED: 'CANCELED',
  FAILED: 'FAILED',
  LOST: null,
};

export function integrityViolations(facts: {
  flinkJobs: readonly FlinkJobSummary[];
  executions: readonly ExecutionFact[];
  /** Omitted when nobody saw the run requests. */
  runRequests?: readonly RunRequestFact[];
  /**
   * JobIDs of executions that were recorded and are gone since (their job deleted, their
   * history pruned): their run requests are explained, a Flink job of theirs still running is not.
   */
  gone?: readonly string[];
}): string[] {
  const violations: string[] = [];
  const owners = new Map<string, ExecutionFact>();
  for (const e of facts.executions) if (e.flinkJobId) owners.set(e.flinkJobId, e);

  const live = new Map<string, string[]>();
  for (const job of facts.flinkJobs) {
    const owner = owners.get(job.jid);
    if (owner?.cluster && job.cluster && owner.cluster !== job.cluster)
      violations.push(
        `Flink job ${job.jid} is on cluster ${job.cluster} but its execution ${owner.id} was sent to ${owner.cluster}`,
      );
    if (owner?.jobId && !owner.overlapAllowed && !ENDING.has(job.state))
      live.set(owner.jobId, [
        ...(live.get(owner.jobId) ?? []),
        `${job.jid} (${job.state}, ${job.cluster ?? 'default'})`,
      ]);
    if (!FLINK_ENDED.has(job.state)) {
      if (!owner) violations.push(`orphan: Flink job ${job.jid} is ${job.state} and no execution owns it`);
      else if (!ACTIVE.has(owner.status))
        violations.push(
          `orphan: Flink job ${job.jid} is ${job.state} but its execution ${owner.id} already ended ${owner.status}`,
        );
      continue;
    }
    if (!owner || !(owner.status in ENDED_AS)) continue;
    const expected = ENDED_AS[owner.status];
    if (expected !== job.state)
      violations.push(
        `execution ${owner.id} ended ${owner.status} but Flink's job ${job.jid} ended ${job.state}` +
          (expected ? ` (expected ${expected})` : ' (a LOST job must be unknown to Flink)'),
      );
  }
  for (const [jobId, runs] of live)
    if (runs.length > 1)
      violations.push(`job ${jobId} has ${runs.length} Flink jobs running at once: ${runs.join(', ')}`);
  if (facts.runRequests) violations.push(...runRequestViolations(facts.runRequests, owners, new Set(facts.gone ?? [])));
  return violations;
}

function runRequestViolations(
  requests: readonly RunRequestFact[],
  owners: Map<string, ExecutionFact>,
  gone: ReadonlySet<string>,
): string[] {
  const violations: string[] = [];
  const byJob = new Map<string, RunRequestFact[]>();
  for (const r of requests) {
    if (!r.jobId) {
      violations.push(`a run request at ${r.at} named no JobID`);
      continue;
    }
    byJob.set(r.jobId, [...(byJob.get(r.jobId) ?? []), r]);
  }
  for (const [jobId, list] of byJob) {
    const owner = owners.get(jobId);
    if (!owner) {
      if (!gone.has(jobId))
        violations.push(`${list.length} run request(s) for JobID ${jobId}, which no execution owns`);
      continue;
    }
    for (const r of list)
      if (owner.cluster && r.cluster && r.cluster !== owner.cluster)
        violations.push(
          `cluster ${r.cluster} received a run request for execution ${owner.id}, which was sent to ${owner.cluster}`,
        );
    const sorted = [...list].sort((a, b) => a.at - b.at);
    const accepted = sorted.filter((r) => r.outcome === 'accepted').length;
    if (accepted > 1) violations.push(`Flink accepted execution ${owner.id} ${accepted} times (JobID ${jobId})`);
    const first = sorted[0] as RunRequestFact;
    if (!owner.runRequestedAt)
      violations.push(`execution ${owner.id} sent a run request but never recorded run_requested_at`);
    else if (first.at < owner.runRequestedAt.getTime())
      violations.push(
        `execution ${owner.id} sent a run request at ${new Date(first.at).toISOString()}, before its run_requested_at ${owner.runRequestedAt.toISOString()}`,
      );
    for (let i = 1; i < sorted.length; i++) {
      const prev = sorted[i - 1] as RunRequestFact;
      const unresolved = prev.delivered !== true || prev.status === null || prev.status >= 500;
      if (!unresolved)
        violations.push(
          `execution ${owner.id} sent run request ${i + 1} of ${sorted.length} although Flink's answer to request ${i} ` +
            `(${prev.status}, ${prev.outcome}) had reached it`,
        );
    }
  }
  return violations;
}

/** GET /jobs/overview of a Flink (or the double): every job it knows, with its state. */
export async function flinkJobs(flinkUrl: string, cluster = 'default'): Promise<FlinkJobSummary[]> {
  const res = await fetch(`${flinkUrl.replace(/\/+$/, '')}/jobs/overview`);
  if (res.status !== 200) throw new Error(`GET /jobs/overview answered ${res.status}: ${await res.text()}`);
  const body = (await res.json()) as { jobs: { jid: string; state: string }[] };
  return body.jobs.map((j) => ({ jid: j.jid, state: j.state, cluster }));
}

/** Every cluster's jobs, each tagged with its cluster. */
async function allFlinkJobs(clusters: readonly ClusterView[]): Promise<FlinkJobSummary[]> {
  return (await Promise.all(clusters.map((c) => flinkJobs(c.flinkUrl, c.name)))).flat();
}

/** The jobs of the first read, each in its state of the second read when it has one. */
function mergeNewer(first: FlinkJobSummary[], second: FlinkJobSummary[]): FlinkJobSummary[] {
  const now = new Map(second.map((j) => [j.jid, j.state]));
  return first.map((j) => ({ ...j, state: now.get(j.jid) ?? j.state }));
}

/** The executions that own these Flink JobIDs. */
export async function executionsOwning(databaseUrl: string, jobIds: readonly string[]): Promise<ExecutionFact[]> {
  if (jobIds.length === 0) return [];
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const { rows } = await db.query<{
      id: string;
      status: string;
      flink_job_id: string | null;
      run_requested_at: Date | null;
      cluster: string;
      job_id: string;
      overlap_allowed: boolean;
    }>(
      `SELECT e.id, e.status, e.flink_job_id, e.run_requested_at, e.cluster, e.job_id,
              -- A schedule removed since leaves its ticks' overlap unknown: they are not compared.
              CASE WHEN j.schedule_overlap IS NULL THEN e.trigger = 'schedule'
                   ELSE j.schedule_overlap = 'allow' END AS overlap_allowed
         FROM job_executions e LEFT JOIN jobs j ON j.id = e.job_id
        WHERE e.flink_job_id = ANY($1::text[])`,
      [[...new Set(jobIds)]],
    );
    return rows.map((r) => ({
      id: r.id,
      status: r.status,
      flinkJobId: r.flink_job_id,
      runRequestedAt: r.run_requested_at,
      cluster: r.cluster,
      jobId: r.job_id,
      overlapAllowed: r.overlap_allowed,
    }));
  } finally {
    await db.end();
  }
}

/**
 * The JobIDs among these whose execution is known from its events but no longer has a row:
 * deleted with its job, or pruned with the history.
 */
export async function goneExecutions(databaseUrl: string, jobIds: readonly string[]): Promise<string[]> {
  if (jobIds.length === 0) return [];
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const { rows } = await db.query<{ jid: string }>(
      `SELECT DISTINCT replace(ev.execution_id::text, '-', '') AS jid FROM events ev
        WHERE replace(ev.execution_id::text, '-', '') = ANY($1::text[])
          AND NOT EXISTS (SELECT 1 FROM job_executions x WHERE x.id = ev.execution_id)`,
      [[...new Set(jobIds)]],
    );
    return rows.map((r) => r.jid);
  } finally {
    await db.end();
  }
}

/**
 * 7: more than one execution for one failure (restart_of), one upgrade, one schedule tick, or
 * more than one row for one action tick. The unique indexes promise it; this sees one dropped.
 */
export async function recordViolations(databaseUrl: string): Promise<string[]> {
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const { rows } = await db.query<{ what: string; key: string; n: number }>(
      `SELECT 'failure' AS what, restart_of::text AS key, count(*)::int AS n FROM job_executions
        WHERE restart_of IS NOT NULL GROUP BY restart_of HAVING count(*) > 1
       UNION ALL
       SELECT 'upgrade', upgrade_id::text, count(*)::int FROM job_executions
        WHERE upgrade_id IS NOT NULL GROUP BY upgrade_id HAVING count(*) > 1
       UNION ALL
       SELECT 'schedule tick', job_id || ' at ' || scheduled_for, count(*)::int FROM job_executions
        WHERE scheduled_for IS NOT NULL GROUP BY job_id, scheduled_for HAVING count(*) > 1
       UNION ALL
       SELECT 'action tick', schedule_id || ' at ' || scheduled_for, count(*)::int FROM schedule_ticks
        GROUP BY schedule_id, scheduled_for HAVING count(*) > 1`,
    );
    return rows.map((r) => `${r.n} records for one ${r.what} (${r.key})`);
  } finally {
    await db.end();
  }
}

/** One cluster as the check sees it: its name in the service, its URL, what it was asked to run. */
export interface ClusterView {
  name: string;
  flinkUrl: string;
  runRequests?: readonly RunRequestFact[];
}

/**
 * Checks 1–7 against live Flink clusters and PostgreSQL; fails listing every violation. Safe
 * to call at any time (in afterEach hooks too): it needs nothing to have settled.
 */
export async function assertFlinkIntegrity(options: {
  clusters: readonly ClusterView[];
  databaseUrl: string;
  /** Printed with the failure, e.g. the seed that replays the test. */
  context?: string;
}): Promise<void> {
  // Run requests first, Flink's jobs next, PostgreSQL last: a row always precedes its run
  // request, so every request and job seen has its row by the time PostgreSQL is read. The
  // request logs are copied because they grow while we look (a schedule may still fire).
  const seen = options.clusters.filter((c) => c.runRequests);
  const runRequests =
    seen.length > 0 ? seen.flatMap((c) => (c.runRequests ?? []).map((r) => ({ ...r, cluster: c.name }))) : undefined;
  const jobs = await allFlinkJobs(options.clusters);
  const ids = [...jobs.map((j) => j.jid), ...(runRequests ?? []).flatMap((r) => (r.jobId ? [r.jobId] : []))];
  const executions = await executionsOwning(options.databaseUrl, ids);
  const owned = new Set(executions.map((e) => e.flinkJobId));
  const gone = await goneExecutions(
    options.databaseUrl,
    ids.filter((id) => !owned.has(id)),
  );
  const facts = { executions, gone, ...(runRequests ? { runRequests } : {}) };
  const found = integrityViolations({ flinkJobs: jobs, ...facts });
  // A job seen CANCELLING may end, and its execution with it, between the two reads: that is
  // no orphan. Flink is read again after PostgreSQL; a real violation is there in both views
  // (an execution records its end only after Flink's), a passing moment is not.
  const again =
    found.length === 0
      ? []
      : integrityViolations({ flinkJobs: mergeNewer(jobs, await allFlinkJobs(options.clusters)), ...facts });
  const subject = (violation: string) => /[0-9a-f]{32}/.exec(violation)?.[0] ?? violation;
  const violations = [
    ...found.filter((v) => again.some((w) => subject(w) === subject(v))),
    ...(await recordViolations(options.databaseUrl)),
  ];
  expect(
    violations,
    `Flink and PostgreSQL disagree${options.context ? ` (${options.context})` : ''}:\n  ${violations.join('\n  ')}\n`,
  ).to.deep.equal([]);
}

/** A cluster a harness test added besides `default`: its name and its double. */
export interface ExtraCluster {
  name: string;
  flink: { url: string; runRequests: readonly RunRequestFact[] };
}

/**
 * assertFlinkIntegrity for a harness: its double as `default` and any cluster the test added,
 * every run request each double received, its database.
 */
export function assertHarnessIntegrity(
  h: PipelineHarness,
  options: string | { context?: string; clusters?: readonly ExtraCluster[] } = {},
): Promise<void> {
  const { context, clusters = [] } = typeof options === 'string' ? { context: options } : options;
  return assertFlinkIntegrity({
    clusters: [{ name: 'default', flink: h.flink }, ...clusters].map((c) => ({
      name: c.name,
      flinkUrl: c.flink.url,
      runRequests: c.flink.runRequests,
    })),
    databaseUrl: h.databaseUrl,
    ...(context ? { context } : {}),
  });
}
