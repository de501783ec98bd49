import type { ServiceProcess } from './worker-processes';

/**
 * When each run of the workers' periodic chores began (ms since the epoch, just after its
 * worker took the lease), oldest first. Read from the `chores done` line the lease holder
 * logs once it has run them all: runs that provably happened, which no Redis key tells.
 */
export function choreRuns(workers: readonly ServiceProcess[]): number[] {
  const runs: number[] = [];
  for (const worker of workers)
    for (const line of worker.output.split('\n')) {
      if (!line.startsWith('{') || !line.includes('"chores done"')) continue;
      const startedAt = startedAtOf(line);
      if (startedAt !== null) runs.push(startedAt);
    }
  return runs.sort((a, b) => a - b);
}

function startedAtOf(line: string): number | null {
  try {
    const parsed = JSON.parse(line) as { msg?: string; startedAt?: string };
    return parsed.msg === 'chores done' && parsed.startedAt ? Date.parse(parsed.startedAt) : null;
  } catch {
    return null; // the first line of an output cut to its last megabyte
  }
}
