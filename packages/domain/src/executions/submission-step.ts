import type { Execution } from './execution';

/**
 * What a submit message must do with the execution as its row stands:
 * - `submit`: run (or finish) the pipeline: SUBMITTING, or STOPPING after the run request
 *   went out but before Flink's answer was recorded (the outcome must be learnt first);
 * - `cancel-unsubmitted`: a stop won before the run request, so Flink never saw the job;
 * - `nothing`: RUNNING (a redelivery after the worker died: the cluster's observer follows
 *   it), ended, still QUEUED by another claim, or a submitted job the stop handler owns.
 */
export type SubmissionStep = 'submit' | 'cancel-unsubmitted' | 'nothing';

export function submissionStepFor(
  execution: Pick<Execution, 'status' | 'runRequestedAt' | 'submittedAt'>,
): SubmissionStep {
  switch (execution.status) {
    case 'SUBMITTING':
      return 'submit';
    case 'STOPPING':
      if (!execution.runRequestedAt) return 'cancel-unsubmitted';
      return execution.submittedAt ? 'nothing' : 'submit';
    default:
      return 'nothing';
  }
}
