export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** Waiting, as a port: a use case that polls can be driven by a fake clock in tests. */
export interface Sleeper {
  sleep(ms: number): Promise<void>;
}

export const systemSleeper: Sleeper = {
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** The slice of pino the domain uses, so use cases log without importing it. */
export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}
