import type { Execution, StopOptions } from '../executions/execution';

/** What a schedule tick needs from the rest of the pipeline: hand work to the workers, ask for a stop. */
export interface TickDispatch {
  /** Sends a new QUEUED execution to the workers; discards it and throws when the queue refuses. */
  submit(execution: Execution): Promise<Execution>;
  /** Asks an active execution to stop; answers it as it is now. */
  stop(execution: Execution, options: StopOptions): Promise<Execution>;
}
