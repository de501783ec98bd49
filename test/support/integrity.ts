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
 * 3 and 4 hold at every instant, not only once things have settled: Flink may end a job
 * before the tracker notices, but nothing here may end before Flink did.
 */

export interface FlinkJobSummary {
  jid: string;
  state: string;
}

/** One POST /jars/:id/run as the double or the proxy received it (a RunRequestRecord fits). */
export interface RunRequestFact {
  jobId: string | null;
  at: number;
  status: number | null;
  outcome: 'accepted' | 'duplicate' | 'refused' | null;
  delivered: boolean | null;
}

export interface ExecutionFact {
  id: string;
  status: string;
  flinkJobId: string | null;
  runRequestedAt: Date | null;
}

/** Flink's globally terminal job states. */
export const FLINK_ENDED: ReadonlySet<string> = new Set(['FINISHED', 'CANCELED', 'FAILED']);
const ACTIVE: ReadonlySet<string> = new Set(['QUEUED', 'SUBMITTING', 'RUNNING', 'STOPPING']);
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
}): string[] {
  const violations: string[] = [];
  const owners = new Map<string, ExecutionFact>();
  for (const e of facts.executions) if (e.flinkJobId) owners.set(e.flinkJobId, e);

  for (const job of facts.flinkJobs) {
    const owner = owners.get(job.jid);
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
  if (facts.runRequests) violations.push(...runRequestViolations(facts.runRequests, owners));
  return violations;
}

function runRequestViolations(requests: readonly RunRequestFact[], owners: Map<string, ExecutionFact>): string[] {
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
      violations.push(`${list.length} run request(s) for JobID ${jobId}, which no execution owns`);
      continue;
    }
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
export async function flinkJobs(flinkUrl: string): Promise<FlinkJobSummary[]> {
  const res = await fetch(`${flinkUrl.replace(/\/+$/, '')}/jobs/overview`);
  if (res.status !== 200) throw new Error(`GET /jobs/overview answered ${res.status}: ${await res.text()}`);
  const body = (await res.json()) as { jobs: { jid: string; state: string }[] };
  return body.jobs.map((j) => ({ jid: j.jid, state: j.state }));
}

/** The jobs of the first read, each in its state of the second read when it has one. */
function mergeNewer(first: FlinkJobSummary[], second: FlinkJobSummary[]): FlinkJobSummary[] {
  const now = new Map(second.map((j) => [j.jid, j.state]));
  return first.map((j) => ({ jid: j.jid, state: now.get(j.jid) ?? j.state }));
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
    }>('SELECT id, status, flink_job_id, run_requested_at FROM job_executions WHERE flink_job_id = ANY($1::text[])', [
      [...new Set(jobIds)],
    ]);
    return rows.map((r) => ({
      id: r.id,
      status: r.status,
      flinkJobId: r.flink_job_id,
      runRequestedAt: r.run_requested_at,
    }));
  } finally {
    await db.end();
  }
}

/**
 * Checks 1–4 against a live Flink and PostgreSQL; fails listing every violation. Safe to
 * call at any time (in afterEach hooks too): it needs nothing to have settled.
 */
export async function assertFlinkIntegrity(options: {
  flinkUrl: string;
  databaseUrl: string;
  runRequests?: readonly RunRequestFact[];
  /** Printed with the failure, e.g. the seed that replays the test. */
  context?: string;
}): Promise<void> {
  // Run requests first, Flink's jobs next, PostgreSQL last: a row always precedes its run
  // request, so every request and job seen has its row by the time PostgreSQL is read. The
  // request log is copied because it grows while we look (a schedule may still fire).
  const runRequests = options.runRequests ? [...options.runRequests] : undefined;
  const jobs = await flinkJobs(options.flinkUrl);
  const ids = [...jobs.map((j) => j.jid), ...(runRequests ?? []).flatMap((r) => (r.jobId ? [r.jobId] : []))];
  const executions = await executionsOwning(options.databaseUrl, ids);
  const found = integrityViolations({ flinkJobs: jobs, executions, ...(runRequests ? { runRequests } : {}) });
  // A job seen CANCELLING may end, and its execution with it, between the two reads: that is
  // no orphan. Flink is read again after PostgreSQL; a real violation is there in both views
  // (an execution records its end only after Flink's), a passing moment is not.
  const again =
    found.length === 0
      ? []
      : integrityViolations({
          flinkJobs: mergeNewer(jobs, await flinkJobs(options.flinkUrl)),
          executions,
          ...(runRequests ? { runRequests } : {}),
        });
  const subject = (violation: string) => /[0-9a-f]{32}/.exec(violation)?.[0] ?? violation;
  const violations = found.filter((v) => again.some((w) => subject(w) === subject(v)));
  expect(
    violations,
    `Flink and PostgreSQL disagree${options.context ? ` (${options.context})` : ''}:\n  ${violations.join('\n  ')}\n`,
  ).to.deep.equal([]);
}

/** assertFlinkIntegrity for a harness: its double, every run request the double received, its database. */
export function assertHarnessIntegrity(h: PipelineHarness, context?: string): Promise<void> {
  return assertFlinkIntegrity({
    flinkUrl: h.flink.url,
    databaseUrl: h.databaseUrl,
    runRequests: h.flink.runRequests,
    ...(context ? { context } : {}),
  });
}
