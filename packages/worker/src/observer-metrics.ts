import type { ObservationReport } from '@flink-orchestrator/domain';
import type { Metrics } from '@flink-orchestrator/observability';

/**
 * The observer's gauges, set after each tick and removed when this worker stops observing
 * the cluster: a worker that lost the lease must not keep its last value, since the alert
 * takes the max across workers (a stale 1 would hide the new observer's 0).
 */
export function observerMetrics(metrics: Metrics) {
  return {
    onTick(cluster: string, report: ObservationReport, seconds: number): void {
      metrics.observationDuration.observe({ cluster }, seconds);
      metrics.clusterReachable.set({ cluster }, report.reachable ? 1 : 0);
      metrics.observedExecutions.set({ cluster }, report.observed);
    },
    onRelease(cluster: string): void {
      metrics.clusterReachable.remove({ cluster });
      metrics.observedExecutions.remove({ cluster });
    },
  };
}
