export { buildApi, type RunningApi } from './build-api';
