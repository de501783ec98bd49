import { PermanentFailure } from '../errors';
import { flinkJobIdFor, type Execution, type ExecutionDefinition } from '../execution';
import { programArgsFrom, resolveJarUrl } from '../job';
import type { ExecutionRepository } from '../ports/execution-repository';
import type { ClusterGateway, FlinkClusters } from '../ports/flink-clusters';
import type { JobRepository } from '../ports/job-repository';
import type { Clock } from '../ports/clock';
import type { Logger } from '../ports/logger';
import type { Attempt } from '../ports/work-handlers';
import type { WorkQueue } from '../ports/work-queue';
import { errorFields, failureText } from './failure-text';
import type { EnsureJarOnFlink } from './ensure-jar-on-flink';
import { submissionStepFor } from './submission-step';

export interface SubmitSettings {
  dataProcessorUrl: string;
  pollIntervalMs: number;
}

export interface StageTimings {
  /** Called with the seconds each pipeline stage took, for metrics. */
  observe(
    stage: 'download_upload' | 'run' | 'to_running',
    seconds: number,
    labels?: { jar?: 'hit' | 'not_modified' | 'miss' },
  ): void;
}

/**
 * The submission pipeline of one execution: download and upload the JAR, run it on
 * Flink under a JobID derived from the execution id, record RUNNING.
 *
 * Any worker may pick this up again after a crash at any point. The row tells how far
 * the last try got: before `runRequestedAt` Flink cannot know the job; after it, Flink
 * is asked first, and a resubmission with the same JobID is refused by Flink as a
 * duplicate. So Flink runs each execution at most once, whatever crashes.
 */
export interface SubmitToFlinkDeps {
  jobs: JobRepository;
  executions: ExecutionRepository;
  /** Each execution runs on the cluster it records. */
  clusters: FlinkClusters;
  jars: EnsureJarOnFlink;
  queue: WorkQueue;
  clock: Clock;
  log: Logger;
  settings: SubmitSettings;
  timings?: StageTimings;
}

export class SubmitToFlink {
  private readonly jobs: JobRepository;
  private readonly executions: ExecutionRepository;
  private readonly clusters: FlinkClusters;
  private readonly jars: EnsureJarOnFlink;
  private readonly queue: WorkQueue;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly settings: SubmitSettings;
  private readonly timings?: StageTimings;

  constructor(deps: SubmitToFlinkDeps) {
    ({
      jobs: this.jobs,
      executions: this.executions,
      clusters: this.clusters,
      jars: this.jars,
      queue: this.queue,
      clock: this.clock,
      log: this.log,
      settings: this.settings,
      timings: this.timings,
    } = deps);
  }

  async run(executionId: string, attempt: Attempt): Promise<void> {
    // The common case claims a QUEUED row in one statement; a retry or a redelivery reads it.
    const execution =
      (await this.executions.transition(
        executionId,
        'SUBMITTING',
        { submittingAt: this.clock.now(), flinkJobId: flinkJobIdFor(executionId), attempt: attempt.number },
        ['QUEUED'],
      )) ?? (await this.executions.get(executionId));
    if (!execution) {
      this.log.warn({ executionId }, 'submit message for an unknown execution ignored');
      return;
    }
    const log = this.log.child({
      executionId,
      jobId: execution.jobId,
      cluster: execution.cluster,
      flinkJobId: flinkJobIdFor(executionId),
    });
    switch (submissionStepFor(execution)) {
      case 'nothing':
        return;
      case 'cancel-unsubmitted':
        return this.cancelUnsubmitted(execution, log);
      case 'resume-tracking':
        return this.queue.enqueue({ kind: 'track', executionId }, { delayMs: this.settings.pollIntervalMs });
      case 'submit':
        break;
    }
    try {
      await this.submit(execution, log);
    } catch (error) {
      const permanent = error instanceof PermanentFailure;
      if (!permanent && !attempt.final) {
        log.warn({ ...errorFields(error), attempt: attempt.number }, 'submission failed; will retry');
        await this.executions.patch(executionId, ['SUBMITTING', 'STOPPING'], {
          attempt: attempt.number + 1,
          errorMessage: failureText(error),
        });
        throw error;
      }
      log.warn({ err: error, attempt: attempt.number }, 'submission failed for good');
      const current = await this.executions.get(executionId);
      if (!permanent && current?.runRequestedAt) {
        // The run request may have reached Flink: the outcome is unknown, not failed.
        // The tracker asks Flink until it knows (the job runs, or Flink has no such job: LOST).
        const unknown = await this.executions.transition(
          executionId,
          'RUNNING',
          {
            flinkState: 'UNKNOWN',
            submittedAt: this.clock.now(),
            errorMessage: `Submission outcome unknown after ${attempt.number} attempts (${failureText(error)}); tracking Flink to find out.`,
          },
          ['SUBMITTING'],
        );
        if (unknown) {
          await this.queue.enqueue({ kind: 'track', executionId }, { delayMs: this.settings.pollIntervalMs });
          return;
        }
      }
      // Only a submission that never reached RUNNING fails here; a running Flink job is the tracker's.
      await this.executions.transition(
        executionId,
        'FAILED',
        { errorMessage: failureText(error), finishedAt: this.clock.now() },
        ['SUBMITTING', 'STOPPING'],
      );
    }
  }

  private async submit(execution: Execution, log: Logger): Promise<void> {
    const flinkJobId = flinkJobIdFor(execution.id);
    const target: ClusterGateway = await this.clusters.gatewayFor(execution.cluster);
    const { flink } = target;
    if (execution.runRequestedAt) {
      // A previous try may have reached Flink: ask before doing anything again.
      const known = await flink.getJob(flinkJobId);
      if (known) return this.recordSubmitted(execution.id, known.state, log);
    }
    const { definition, recorded } = await this.definitionOf(execution);

    const fetchStarted = this.clock.now();
    const jar = await this.jars.ensure(resolveJarUrl(definition.jarUrl, this.settings.dataProcessorUrl), target);
    this.timings?.observe('download_upload', seconds(fetchStarted, this.clock.now()), {
      jar: jar.notModified ? 'not_modified' : jar.reused ? 'hit' : 'miss',
    });

    if (!execution.runRequestedAt) {
      // The last point where a stop wins without Flink ever seeing the job.
      const claimed = await this.executions.patch(execution.id, ['SUBMITTING'], {
        runRequestedAt: this.clock.now(),
        flinkJarId: jar.jarId,
        jarSha256: jar.sha256,
        ...(recorded ? {} : { definition }),
      });
      if (!claimed) {
        const current = await this.executions.get(execution.id);
        if (current?.status === 'STOPPING' && !current.runRequestedAt) await this.cancelUnsubmitted(current, log);
        return;
      }
    } else {
      await this.executions.patch(execution.id, ['SUBMITTING', 'STOPPING'], {
        flinkJarId: jar.jarId,
        jarSha256: jar.sha256,
        ...(recorded ? {} : { definition }),
      });
    }

    const runStarted = this.clock.now();
    const outcome = await flink.runJar({
      jarId: jar.jarId,
      jobId: flinkJobId,
      entryClass: definition.entryClass,
      programArgs: programArgsFrom(definition.config),
      parallelism: execution.parallelism,
      savepointPath: execution.savepointPath,
      allowNonRestoredState: execution.allowNonRestoredState,
    });
    this.timings?.observe('run', seconds(runStarted, this.clock.now()));
    const state = await flink.getJob(flinkJobId);
    if (!state) {
      if (outcome === 'duplicate') {
        // Flink took this JobID before and has since forgotten the job.
        await this.executions.transition(execution.id, 'LOST', {
          errorMessage: `Flink refused job ${flinkJobId} as already submitted but no longer knows it.`,
          finishedAt: this.clock.now(),
        });
        return;
      }
      return this.recordSubmitted(execution.id, 'RUNNING', log);
    }
    log.info({ outcome, flinkState: state.state }, 'job submitted to Flink');
    return this.recordSubmitted(execution.id, state.state, log);
  }

  /**
   * What to run: the definition copied onto the execution when it was created, whatever
   * the job says now. An execution from before definitions were recorded has none; it
   * runs the job as it is now, and records that as its definition with the run request.
   */
  private async definitionOf(execution: Execution): Promise<{ definition: ExecutionDefinition; recorded: boolean }> {
    if (execution.definition) return { definition: execution.definition, recorded: true };
    const job = await this.jobs.get(execution.jobId);
    if (!job) throw new PermanentFailure('The job definition was deleted before the execution was submitted.');
    return {
      definition: { jarUrl: job.jarUrl, entryClass: job.entryClass, config: job.config, jobVersion: job.version },
      recorded: false,
    };
  }

  private async recordSubmitted(executionId: string, flinkState: string, log: Logger): Promise<void> {
    const now = this.clock.now();
    // Only from SUBMITTING: a stop that arrived meanwhile (STOPPING) must not be overwritten.
    const running = await this.executions.transition(
      executionId,
      'RUNNING',
      { submittedAt: now, startedAt: now, flinkState, errorMessage: null },
      ['SUBMITTING'],
    );
    if (running) {
      this.timings?.observe('to_running', seconds(running.createdAt, now));
      await this.queue.enqueue({ kind: 'track', executionId }, { delayMs: this.settings.pollIntervalMs });
      return;
    }
    // A stop arrived while the run request was in flight: hand it to the stop handler.
    const stopping = await this.executions.patch(executionId, ['STOPPING'], { submittedAt: now, flinkState });
    if (stopping?.stopRequest) {
      log.info({}, 'stop requested during submission; stopping the Flink job');
      await this.queue.enqueue({ kind: 'stop', executionId, requestedAt: stopping.stopRequest.requestedAt.getTime() });
    }
  }

  private async cancelUnsubmitted(execution: Execution, log: Logger): Promise<void> {
    const cancelled = await this.executions.transition(execution.id, 'CANCELLED', { finishedAt: this.clock.now() }, [
      'STOPPING',
    ]);
    if (cancelled) log.info({}, 'stopped before submission; Flink never saw the job');
  }
}

function seconds(from: Date, to: Date): number {
  return (to.getTime() - from.getTime()) / 1000;
}
