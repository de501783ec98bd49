import type { FlinkGateway } from '../ports/flink-gateway';
import type { JarRegistry } from '../ports/jar-registry';

/** Deletes the Flink jars that no job's latest execution uses, and forgets them. */
export class CollectUnusedJars {
  constructor(
    private readonly flink: FlinkGateway,
    private readonly registry: JarRegistry,
  ) {}

  async run(): Promise<number> {
    const unused = await this.registry.unused();
    const listed = await this.flink.listJarIds();
    for (const { sha256, jarId } of unused) {
      if (listed.has(jarId)) await this.flink.deleteJar(jarId);
      await this.registry.forget(sha256);
    }
    return unused.length;
  }
}
