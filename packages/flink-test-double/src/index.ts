export {
  FlinkTestDouble,
  type FlinkTestDoubleOptions,
  type JobView,
  type OutageMode,
  type RunRequestRecord,
  type SavepointTriggerRecord,
} from './flink-test-double';
export type { SimulatedJob } from './simulated-job';
export { buildTestJar } from './test-jar';
export { manifestEntryClass } from './zip';
