import { PermanentFailure } from '../shared/errors';
import type { Clock } from '../shared/clock';
import type { FlinkClusters } from './flink-clusters';
import type { JarRegistry } from './jar-registry';

/**
 * Deletes the Flink jars that no job's latest execution on their cluster uses, and forgets
 * them. The jars of a cluster that was removed are only forgotten.
 */
export class CollectUnusedJars {
  constructor(
    private readonly clusters: FlinkClusters,
    private readonly registry: JarRegistry,
    /**
     * Jars uploaded less than `recentMs` ago are kept: their submission may not have reached
     * its run request yet (or a check uploaded one that the start about to follow reuses).
     */
    private readonly keep: { recentMs: number; clock: Clock } | null = null,
  ) {}

  async run(): Promise<number> {
    const uploadedBefore = this.keep ? new Date(this.keep.clock.now().getTime() - this.keep.recentMs) : undefined;
    const unused = await this.registry.unused(uploadedBefore);
    const byCluster = new Map<string, { sha256: string; jarId: string }[]>();
    for (const { cluster, ...jar } of unused) byCluster.set(cluster, [...(byCluster.get(cluster) ?? []), jar]);
    // One cluster down does not keep the others' jars: its error is raised after the rest.
    // One cluster down must not keep the others' jars; the first failure is rethrown after.
    let failure: Error | null = null;
    for (const [cluster, jars] of byCluster) {
      try {
        await this.collect(cluster, jars);
      } catch (error) {
        failure ??= error instanceof Error ? error : new Error(String(error));
      }
    }
    if (failure) throw failure;
    return unused.length;
  }

  private async collect(cluster: string, jars: { sha256: string; jarId: string }[]): Promise<void> {
    let flink;
    try {
      flink = (await this.clusters.gatewayFor(cluster)).flink;
    } catch (error) {
      if (!(error instanceof PermanentFailure)) throw error;
      for (const { sha256 } of jars) await this.registry.forget(cluster, sha256);
      return;
    }
    const listed = await flink.listJarIds();
    for (const { sha256, jarId } of jars) {
      if (listed.has(jarId)) await flink.deleteJar(jarId);
      await this.registry.forget(cluster, sha256);
    }
  }
}
