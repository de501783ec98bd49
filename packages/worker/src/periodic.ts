import type { Logger } from '@flink-orchestrator/observability';

/** Runs `chore` every `ms`, never twice at once; failures are logged, not fatal. */
export function every(ms: number, log: Logger, chore: () => Promise<void>): { runNow(): void; stop(): void } {
  let running = false;
  const run = () => {
    if (running) return;
    running = true;
    chore()
      .catch((error: unknown) => log.warn({ err: error }, 'periodic chore failed'))
      .finally(() => {
        running = false;
      });
  };
  const timer = setInterval(run, ms);
  timer.unref();
  return { runNow: run, stop: () => clearInterval(timer) };
}
