import { DEFAULT_CLUSTER, type Execution, type Job } from '@flink-orchestrator/domain';
import type { KnexExecutionRepository, KnexJobRepository } from '@flink-orchestrator/postgres';

/** A plain job of the default cluster, as the repository tests need one: a name, a JAR, nothing else. */
export function createTestJob(jobs: KnexJobRepository, name: string): Promise<Job> {
  return jobs.create({
    name,
    jarUrl: 'a.jar',
    entryClass: null,
    config: {},
    parallelism: null,
    enabled: true,
    cluster: DEFAULT_CLUSTER,
    admission: 'ignore',
  });
}

/** A manual QUEUED execution of the job, as the API's start writes it before it enqueues. */
export async function insertQueued(
  executions: KnexExecutionRepository,
  jobId: string,
  options: { exclusive: boolean } = { exclusive: true },
): Promise<Execution> {
  const outcome = await executions.insert(
    {
      jobId,
      trigger: 'manual',
      status: 'QUEUED',
      parallelism: null,
      savepointPath: null,
      allowNonRestoredState: false,
      scheduledFor: null,
    },
    options,
  );
  if (outcome.kind !== 'created') throw new Error(outcome.kind);
  return outcome.execution;
}
