import { PermanentFailure } from '../shared/errors';
import { flinkJobIdFor, type Execution, type ExecutionDefinition } from './execution';
import { programArgsFrom, resolveJarUrl } from '../jobs/job';
import type { ExecutionRepository } from './execution-repository';
import type { ClusterGateway, FlinkClusters } from '../clusters/flink-clusters';
import type { JobRepository } from '../jobs/job-repository';
import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import type { ClusterObservations } from '../clusters/cluster-observations';
import type { Attempt, PollResult } from '../shared/work-handlers';
import type { WorkQueue } from '../shared/work-queue';
import { errorFields, failureText } from '../shared/failure-text';
import type { EnsureJarOnFlink } from '../clusters/ensure-jar-on-flink';
import { submissionStepFor } from './submission-step';

export interface SubmitSettings {
  dataProcessorUrl: string;
  /** The first wait for slots; each further one doubles, up to `maxAdmissionBackoffMs`. */
  pollIntervalMs: number;
  /** How long a submission may wait for slots before it fails (ADMISSION_TIMEOUT). */
  admissionTimeoutMs: number;
  maxAdmissionBackoffMs: number;
  /**
   * Executions whose claim came less than this before the slots were read still count
   * against the free slots: Flink may not have given them their slots yet.
   */
  admissionSettleMs: number;
}

export interface StageTimings {
  /** Called with the seconds each pipeline stage took, for metrics. */
  observe(
    stage: 'download_upload' | 'run' | 'to_running',
    seconds: number,
    labels?: { jar?: 'cached' | 'hit' | 'not_modified' | 'miss' },
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
  /** The observer's latest slot figures, for admission: no Flink call per submission. */
  observations: ClusterObservations;
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
  private readonly observations: ClusterObservations;
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
      observations: this.observations,
      jars: this.jars,
      queue: this.queue,
      clock: this.clock,
      log: this.log,
      settings: this.settings,
      timings: this.timings,
    } = deps);
  }

  /** Null when the message is done; a delay when the execution waits for slots and must be asked again. */
  async run(executionId: string, attempt: Attempt): Promise<PollResult> {
    const claim = {
      submittingAt: this.clock.now(),
      flinkJobId: flinkJobIdFor(executionId),
      attempt: attempt.number,
      waiting: null,
    };
    // The common case: a QUEUED row with nothing to wait for, admitted and claimed in one
    // statement. Otherwise (it waits, or a retry or a redelivery) it is read and decided here.
    let execution = await this.executions.claimAdmitted(executionId, claim, this.settings.admissionSettleMs);
    if (!execution) {
      const admission = await this.admit(executionId);
      if (admission !== 'admitted') return admission === 'failed' ? null : admission;
      execution =
        (await this.executions.transition(executionId, 'SUBMITTING', claim, ['QUEUED'])) ??
        (await this.executions.get(executionId));
    }
    if (!execution) {
      this.log.warn({ executionId }, 'submit message for an unknown execution ignored');
      return null;
    }
    const log = this.log.child({
      executionId,
      jobId: execution.jobId,
      cluster: execution.cluster,
      flinkJobId: flinkJobIdFor(executionId),
    });
    switch (submissionStepFor(execution)) {
      case 'nothing':
        return null;
      case 'cancel-unsubmitted':
        await this.cancelUnsubmitted(execution, log);
        return null;
      case 'submit':
        break;
    }
    await this.submitOrRecord(execution, attempt, log);
    return null;
  }

  /**
   * Slot-aware admission: a QUEUED execution goes to Flink only when the cluster's free
   * slots, as the observer last read them, cover its parallelism (or the cluster's
   * default). Otherwise it stays QUEUED and says what it waits for, and the message comes
   * back after a backoff, until ADMISSION_TIMEOUT fails it. Unknown figures admit: Flink
   * then queues the job itself.
   */
  private async admit(executionId: string): Promise<'admitted' | 'failed' | number> {
    const execution = await this.executions.get(executionId);
    if (!execution || execution.status !== 'QUEUED') return 'admitted';
    // A restart's backoff lives in its row, so a message delivered early (the reconciler's) waits it out.
    const backoffLeft = (execution.notBefore?.getTime() ?? 0) - this.clock.now().getTime();
    if (backoffLeft > 0) return backoffLeft;
    if (execution.admission === 'ignore') return 'admitted';
    const slots = await this.observations.freeSlots(execution.cluster, this.settings.admissionSettleMs);
    if (!slots) return 'admitted';
    const needed = execution.parallelism ?? slots.figures.defaultParallelism ?? 1;
    if (needed <= slots.free) return 'admitted';

    const now = this.clock.now();
    const since = execution.waiting?.since ?? now;
    const checks = (execution.waiting?.checks ?? 0) + 1;
    const waiting = { waitingFor: 'slots' as const, slotsNeeded: needed, slotsFree: slots.free, since, checks };
    const log = this.log.child({ executionId, jobId: execution.jobId, cluster: execution.cluster });
    if (now.getTime() - since.getTime() >= this.settings.admissionTimeoutMs) {
      const minutes = Math.round(this.settings.admissionTimeoutMs / 60_000);
      const failed = await this.executions.transition(
        executionId,
        'FAILED',
        {
          waiting,
          finishedAt: now,
          errorMessage:
            `Not admitted: the job needs ${needed} slots and cluster ${execution.cluster} had ${slots.free} free ` +
            `(${slots.figures.slotsTotal} in all) for ${minutes} min (ADMISSION_TIMEOUT). Free slots, lower ` +
            `the job's parallelism, or set "admission": "ignore".`,
        },
        ['QUEUED'],
      );
      if (failed) {
        log.warn({ slotsNeeded: needed, slotsFree: slots.free }, 'submission failed: no slots');
        return 'failed';
      }
      return 'admitted'; // a stop or another worker moved it: the claim below sees what happened
    }
    const recorded = await this.executions.patch(executionId, ['QUEUED'], { waiting });
    if (!recorded) return 'admitted';
    if (checks === 1) log.info({ slotsNeeded: needed, slotsFree: slots.free }, 'waiting for slots');
    return Math.min(this.settings.pollIntervalMs * 2 ** (checks - 1), this.settings.maxAdmissionBackoffMs);
  }

  private async submitOrRecord(execution: Execution, attempt: Attempt, log: Logger): Promise<void> {
    const executionId = execution.id;
    try {
      await this.submit(execution, log);
    } catch (error) {
      const permanent = error instanceof PermanentFailure;
      // What was remembered of the cluster's JARs may be why a run failed transiently (Flink
      // lost them): the retry asks again. A permanent failure (its own JAR gone from the
      // data-processor, a wrong class) says nothing of the cluster's JARs: other starts keep them.
      if (!permanent) this.jars.forget(execution.cluster);
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
        // The cluster's observer asks Flink until it knows (the job runs, or Flink has no such job: LOST).
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
        if (unknown) return;
      }
      // Only a submission that never reached RUNNING fails here; a running Flink job is the observer's.
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
      jar: jar.cached ? 'cached' : jar.notModified ? 'not_modified' : jar.reused ? 'hit' : 'miss',
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
    // Kept although the observer would report the state too: a read that fails after the
    // run request is what leaves an outcome unknown for the observer to settle, and the
    // fault suite's slow-Flink case is built on it (bench/README.md, issue 17).
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
