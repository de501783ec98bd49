/** What differs between the Flink lines the double answers like. */
export interface Flavor {
  /** 2.0+: no programArgs, no deprecated exception fields, pending-operators. */
  v2: boolean;
  /** 2.3+: applicationId in the run answer, application-id/schedulerType in details. */
  v23: boolean;
  /** The config key of the default savepoint directory, renamed in 1.20. */
  savepointDirKey: string;
}

export function flavorOf(version: string): Flavor {
  const [major = 0, minor = 0] = version.split('.').map((n) => Number.parseInt(n, 10) || 0);
  return {
    v2: major >= 2,
    v23: major > 2 || (major === 2 && minor >= 3),
    savepointDirKey: major === 1 && minor < 20 ? 'state.savepoints.dir' : 'execution.checkpointing.savepoint-dir',
  };
}
