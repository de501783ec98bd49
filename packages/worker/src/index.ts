export { buildWorker, type RunningWorker } from './build-worker';
