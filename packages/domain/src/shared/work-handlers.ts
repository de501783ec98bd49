/** How the queue adapter tells a handler which try this is. */
export interface Attempt {
  /** 1-based. */
  number: number;
  /** No retry follows: a failure now must be recorded, not rethrown. */
  final: boolean;
}

/** Poll again after this many milliseconds, or stop polling (`null`). */
export type PollResult = number | null;
