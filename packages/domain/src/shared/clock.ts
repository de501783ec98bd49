/**
 * Time, as a port: every use case that reads the time or waits goes through it, so tests
 * drive time with a fake clock instead of sleeping. The system clock lives with the
 * adapters (observability), since it needs timers.
 */
export interface Clock {
  now(): Date;
  sleep(ms: number): Promise<void>;
}
