import {
  DependencyUnavailable,
  JobNotFound,
  PermanentFailure,
  TransientFailure,
  UnknownCluster,
  ValidationFailedOnFlink,
} from '../shared/errors';
import { programArgsFrom, resolveJarUrl, type NewJob } from '../jobs/job';
import type { ClusterGateway, FlinkClusters } from './flink-clusters';
import type { FlinkGateway, JobPlan } from './flink-gateway';
import type { JobRepository } from '../jobs/job-repository';
import type { EnsureJarOnFlink } from './ensure-jar-on-flink';

/** What a check needs of a job: the program and where it runs, saved or not. */
export type JobDefinition = Pick<NewJob, 'jarUrl' | 'entryClass' | 'config' | 'parallelism' | 'cluster'>;

/** A program Flink accepted: the jar id that holds it on the cluster, and the plan Flink built. */
export interface FlinkCheck {
  cluster: string;
  jarId: string;
  plan: JobPlan;
}

export interface ValidateOnFlinkDeps {
  jobs: JobRepository;
  clusters: FlinkClusters;
  jars: EnsureJarOnFlink;
  settings: { dataProcessorUrl: string };
}

/**
 * Checks a program on its cluster without running it: the JAR goes to Flink as a start would
 * put it there (once per content, reused afterwards), and Flink builds the job's plan, which
 * runs the program's `main()`. A program Flink refuses is ValidationFailedOnFlink with Flink's
 * reason; Flink or the data-processor out of reach is DependencyUnavailable.
 */
export class ValidateOnFlink {
  private readonly jobs: JobRepository;
  private readonly clusters: FlinkClusters;
  private readonly jars: EnsureJarOnFlink;
  private readonly settings: { dataProcessorUrl: string };

  constructor(deps: ValidateOnFlinkDeps) {
    ({ jobs: this.jobs, clusters: this.clusters, jars: this.jars, settings: this.settings } = deps);
  }

  /** A saved job, as it is defined now. */
  async job(id: string): Promise<FlinkCheck> {
    const job = await this.jobs.get(id);
    if (!job) throw new JobNotFound(id);
    return this.definition(job);
  }

  /** A definition as it would be saved. */
  async definition(definition: JobDefinition): Promise<FlinkCheck> {
    const { cluster } = definition;
    const target = await this.gatewayFor(cluster);
    const fromFlink = new WeakSet<object>();
    let stage: 'jar' | 'plan' = 'jar';
    try {
      const url = resolveJarUrl(definition.jarUrl, this.settings.dataProcessorUrl);
      const jar = await this.jars.ensure(url, { ...target, flink: blamed(target.flink, fromFlink) });
      stage = 'plan';
      const plan = await target.flink.planJar({
        jarId: jar.jarId,
        entryClass: definition.entryClass,
        programArgs: programArgsFrom(definition.config),
        parallelism: definition.parallelism,
      });
      return { cluster, jarId: jar.jarId, plan };
    } catch (error) {
      if (error instanceof PermanentFailure) throw new ValidationFailedOnFlink(cluster, stage, error.message);
      if (error instanceof TransientFailure)
        throw new DependencyUnavailable(stage === 'plan' || fromFlink.has(error) ? 'flink' : 'data-processor', error);
      throw error;
    }
  }

  private async gatewayFor(cluster: string): Promise<ClusterGateway> {
    try {
      return await this.clusters.gatewayFor(cluster);
    } catch (error) {
      if (error instanceof PermanentFailure) throw new UnknownCluster(cluster);
      if (error instanceof TransientFailure) throw new DependencyUnavailable('postgres', error);
      throw error;
    }
  }
}

/**
 * The gateway as EnsureJarOnFlink gets it, remembering the failures that came from Flink, so
 * that a dependency out of reach is named right: EnsureJarOnFlink talks to the data-processor too.
 */
function blamed(flink: FlinkGateway, failures: WeakSet<object>): FlinkGateway {
  return new Proxy(flink, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const answer: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (!(answer instanceof Promise)) return answer;
        return answer.catch((error: unknown) => {
          if (error instanceof Error) failures.add(error);
          throw error;
        });
      };
    },
  });
}
