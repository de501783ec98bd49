import type { FlinkTestDouble } from '@flink-orchestrator/flink-test-double';

/**
 * Holds every run request the double receives until `release()`: a submission paused
 * mid-flight, for crash and race tests. `arrived` counts the requests held.
 */
export function holdRunRequests(flink: FlinkTestDouble): {
  arrived: () => number;
  /** The JobIDs of the requests held, in arrival order. */
  jobIds: () => string[];
  stopHolding: () => void;
  release: () => void;
} {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const held: string[] = [];
  flink.setRunDelayHook(async (jobId) => {
    held.push(jobId);
    await gate;
  });
  return {
    arrived: () => held.length,
    jobIds: () => [...held],
    // New requests pass; the held ones wait for release().
    stopHolding: () => flink.setRunDelayHook(null),
    release: () => {
      flink.setRunDelayHook(null);
      release();
    },
  };
}
