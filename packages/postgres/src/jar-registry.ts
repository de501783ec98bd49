import type { JarRegistry } from '@flink-orchestrator/domain';
import type { Knex } from 'knex';
import { guarded } from './connection-errors';

/** A row of `flink_jars`: a JAR Flink holds, by its content. */
interface JarRow {
  cluster: string;
  sha256: string;
  jar_id: string;
  uploaded_at: Date;
}

export class KnexJarRegistry implements JarRegistry {
  constructor(private readonly db: Knex) {}

  find(cluster: string, sha256: string): Promise<string | null> {
    return guarded(async () => {
      const row = await this.db<JarRow>('flink_jars').where({ cluster, sha256 }).first('jar_id');
      return row?.jar_id ?? null;
    });
  }

  remember(cluster: string, sha256: string, jarId: string): Promise<void> {
    return guarded(async () => {
      await this.db('flink_jars')
        .insert({ cluster, sha256, jar_id: jarId, uploaded_at: this.db.fn.now() })
        .onConflict(['cluster', 'sha256'])
        .merge();
    });
  }

  forget(cluster: string, sha256: string): Promise<void> {
    return guarded(async () => {
      await this.db('flink_jars').where({ cluster, sha256 }).delete();
    });
  }

  findSource(cluster: string, url: string): Promise<{ etag: string; sha256: string; jarId: string | null } | null> {
    return guarded(async () => {
      // One round trip for both answers: on this path it replaces a download.
      const row = await this.db('jar_sources as s')
        .leftJoin('flink_jars as f', (on) => on.on('f.sha256', 's.sha256').andOnVal('f.cluster', cluster))
        .where('s.url', url)
        .first<{ etag: string; sha256: string; jar_id: string | null } | undefined>('s.etag', 's.sha256', 'f.jar_id');
      if (!row) return null;
      return { etag: row.etag, sha256: row.sha256, jarId: row.jar_id };
    });
  }

  rememberSource(url: string, etag: string, sha256: string): Promise<void> {
    return guarded(async () => {
      await this.db('jar_sources')
        .insert({ url, etag, sha256, checked_at: this.db.fn.now() })
        .onConflict('url')
        .merge();
    });
  }

  /** A transaction-scoped advisory lock keyed by the cluster and the content hash; released on commit. */
  exclusively<T>(cluster: string, sha256: string, fn: () => Promise<T>): Promise<T> {
    return guarded(() =>
      this.db.transaction(async (trx) => {
        await trx.raw('SELECT pg_advisory_xact_lock(hashtextextended(?, 0))', [`flink-jar:${cluster}:${sha256}`]);
        return fn();
      }),
    );
  }

  unused(uploadedBefore?: Date): Promise<{ cluster: string; sha256: string; jarId: string }[]> {
    return guarded(async () => {
      // A JAR is in use on a cluster while the latest execution of some job ran it there.
      const query = this.db('flink_jars as j');
      if (uploadedBefore) query.where('j.uploaded_at', '<', uploadedBefore);
      const rows = await query
        .whereNotExists(
          this.db
            .select(this.db.raw('1'))
            .from(
              this.db('job_executions')
                .distinctOn('job_id')
                .select('job_id', 'jar_sha256', 'cluster')
                .whereNotNull('jar_sha256')
                .orderBy([{ column: 'job_id' }, { column: 'created_at', order: 'desc' }])
                .as('latest'),
            )
            .whereRaw('latest.jar_sha256 = j.sha256 AND latest.cluster = j.cluster'),
        )
        .select('j.cluster', 'j.sha256', 'j.jar_id');
      return rows.map((r: { cluster: string; sha256: string; jar_id: string }) => ({
        cluster: r.cluster,
        sha256: r.sha256,
        jarId: r.jar_id,
      }));
    });
  }
}
