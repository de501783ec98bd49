export { HttpJarSource, type JarSourceOptions } from './http-jar-source';
export { JarUrlPolicy } from './url-policy';
