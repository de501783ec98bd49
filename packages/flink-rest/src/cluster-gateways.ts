import {
  DependencyUnavailable,
  PermanentFailure,
  TransientFailure,
  type Cluster,
  type ClusterAuth,
  type ClusterGateway,
  type ClusterRepository,
  type FlinkClusters,
} from '@flink-orchestrator/domain';
import { FlinkRestClient, type FlinkClientOptions } from './flink-rest-client';

/** The `Authorization` header a cluster's credentials make. */
export function authorizationFor(auth: ClusterAuth | null): Record<string, string> {
  if (!auth) return {};
  if (auth.type === 'bearer') return { Authorization: `Bearer ${auth.token}` };
  return { Authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`, 'utf8').toString('base64')}` };
}

export interface ClusterGatewaysOptions {
  /** The client settings every cluster shares (timeouts, metrics); the URL and headers are the cluster's. */
  client: (cluster: Cluster) => Omit<FlinkClientOptions, 'baseUrl' | 'headers'>;
  /** SAVEPOINT_DIR: where a cluster without a directory of its own writes savepoints. */
  savepointDir: string | null;
  /** How long a cluster row read is trusted before it is read again (a change is seen within this). */
  refreshMs?: number;
  now?: () => number;
}

interface Entry {
  version: number;
  gateway: ClusterGateway;
  checkedAt: number;
}

/**
 * One Flink REST client per cluster (the worker's `FlinkClusters`; the API uses it too), built from its row (URL, credentials, savepoint
 * directory) and rebuilt when the row's version moves. A row is read again at most every
 * `refreshMs`, so a busy worker does not read the cluster on every Flink call.
 */
export class ClusterGateways implements FlinkClusters {
  private readonly entries = new Map<string, Entry>();
  private readonly refreshMs: number;
  private readonly now: () => number;

  constructor(
    private readonly clusters: ClusterRepository,
    private readonly options: ClusterGatewaysOptions,
  ) {
    this.refreshMs = options.refreshMs ?? 1000;
    this.now = options.now ?? Date.now;
  }

  async gatewayFor(name: string): Promise<ClusterGateway> {
    const cached = this.entries.get(name);
    const now = this.now();
    if (cached && now - cached.checkedAt < this.refreshMs) return cached.gateway;
    let cluster: Cluster | null;
    try {
      cluster = await this.clusters.get(name);
    } catch (error) {
      if (error instanceof DependencyUnavailable)
        throw new TransientFailure(`The cluster "${name}" could not be read: ${error.message}`, { cause: error });
      throw error;
    }
    if (!cluster) {
      this.entries.delete(name);
      throw new PermanentFailure(`The Flink cluster "${name}" no longer exists (it was deleted).`);
    }
    if (cached && cached.version === cluster.version) {
      cached.checkedAt = now;
      return cached.gateway;
    }
    const gateway: ClusterGateway = {
      cluster: name,
      flink: new FlinkRestClient({
        ...this.options.client(cluster),
        baseUrl: cluster.url,
        headers: authorizationFor(cluster.auth),
      }),
      savepointDir: cluster.savepointDir ?? this.options.savepointDir,
    };
    this.entries.set(name, { version: cluster.version, gateway, checkedAt: now });
    return gateway;
  }
}
