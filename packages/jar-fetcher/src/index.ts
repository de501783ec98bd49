export { HttpJarSource, type JarSourceOptions } from './http-jar-source';
export { JarUrlPolicy } from '@flink-orchestrator/outbound-http';
