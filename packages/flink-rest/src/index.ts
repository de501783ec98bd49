export { FlinkRestClient, type FlinkClientOptions } from './flink-rest-client';
export { summarizeFlinkErrors, isDuplicateSubmission, redactPaths } from './flink-errors';
export { authorizationFor, ClusterGateways, type ClusterGatewaysOptions } from './cluster-gateways';
