import type { ClusterObservation, SlotFigures } from './cluster-observation';

/** Where the observer leaves what it saw, for the API and for slot admission. */
export interface ClusterObservations {
  /** Replaces the cluster's observation (one row per cluster). */
  save(observation: ClusterObservation): Promise<void>;
  get(cluster: string): Promise<ClusterObservation | null>;
  /**
   * Slots a new submission may take on the cluster: the free slots last observed, less
   * the parallelism of executions whose run was requested since (Flink's figure does not
   * count them yet). Null when the cluster's slots were never observed.
   */
  freeSlots(cluster: string, settleMs: number): Promise<{ free: number; figures: SlotFigures } | null>;
}
