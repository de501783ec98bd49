import {
  ClusterInUse,
  ClusterNameTaken,
  type Cluster,
  type ClusterAuth,
  type ClusterChanges,
  type ClusterRepository,
  type NewCluster,
  type PageRequest,
} from '@flink-orchestrator/domain';
import type { Knex } from 'knex';
import { audited, withinTransaction } from './audit-log';
import { keysetPage } from './keyset-pages';
import { guarded, isForeignKeyViolation, isUniqueViolation } from './connection-errors';

export interface ClusterRow {
  id: string;
  name: string;
  url: string;
  auth: ClusterAuth | null;
  savepoint_dir: string | null;
  version: number;
  created_at: Date;
  updated_at: Date;
}

export function toCluster(row: ClusterRow): Cluster {
  return {
    id: row.id,
    name: row.name,
    url: row.url,
    auth: row.auth,
    savepointDir: row.savepoint_dir,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toColumns(changes: ClusterChanges & { name?: string }): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  if (changes.name !== undefined) row.name = changes.name;
  if (changes.url !== undefined) row.url = changes.url;
  if (changes.auth !== undefined) row.auth = changes.auth === null ? null : JSON.stringify(changes.auth);
  if (changes.savepointDir !== undefined) row.savepoint_dir = changes.savepointDir;
  return row;
}

export class KnexClusterRepository implements ClusterRepository {
  constructor(private readonly db: Knex) {}

  create(cluster: NewCluster): Promise<Cluster> {
    return guarded(async () => {
      try {
        const insert = async (db: Knex) =>
          toCluster((await db<ClusterRow>('clusters').insert(toColumns(cluster)).returning('*'))[0] as ClusterRow);
        return await audited(this.db, insert, (created) => ({ id: created.name }));
      } catch (error) {
        if (isUniqueViolation(error)) throw new ClusterNameTaken(cluster.name);
        throw error;
      }
    });
  }

  get(name: string): Promise<Cluster | null> {
    return guarded(async () => {
      const row = await this.db<ClusterRow>('clusters').where({ name }).first();
      return row ? toCluster(row) : null;
    });
  }

  list(page: PageRequest): Promise<Cluster[]> {
    return guarded(async () => (await keysetPage(this.db<ClusterRow>('clusters'), page, 'asc')).map(toCluster));
  }

  update(name: string, changes: ClusterChanges): Promise<Cluster | null> {
    return guarded(() =>
      audited(this.db, async (db) => {
        const [row] = await db<ClusterRow>('clusters')
          .where({ name })
          .update({ ...toColumns(changes), updated_at: db.fn.now(), version: db.raw('version + 1') })
          .returning('*');
        return row ? toCluster(row) : null;
      }),
    );
  }

  /** The row lock orders this against a job being created on or moved to the cluster. */
  delete(name: string): Promise<boolean> {
    return guarded(async () => {
      try {
        return await audited(this.db, (db) =>
          withinTransaction(db, async (trx) => {
            const cluster = await trx<{ id: string; name: string }>('clusters').where({ name }).forUpdate().first('id');
            if (!cluster) return false;
            const [{ count }] = (await trx('jobs').where({ cluster: name }).count({ count: '*' })) as [
              { count: string | number },
            ];
            if (Number(count) > 0) throw new ClusterInUse(name, Number(count));
            await trx('clusters').where({ name }).delete();
            return true;
          }),
        );
      } catch (error) {
        // A job that named it between the count and the delete: the foreign key refuses.
        if (isForeignKeyViolation(error)) {
          const [{ count }] = (await this.db('jobs').where({ cluster: name }).count({ count: '*' })) as [
            { count: string | number },
          ];
          throw new ClusterInUse(name, Number(count));
        }
        throw error;
      }
    });
  }

  upsertUrl(name: string, url: string): Promise<Cluster> {
    return guarded(async () => {
      // Unchanged, the row is left alone (no new version, so no worker rebuilds its client).
      const { rows } = await this.db.raw<{ rows: ClusterRow[] }>(
        `INSERT INTO clusters (name, url) VALUES (?, ?)
         ON CONFLICT (name) DO UPDATE
           SET url = EXCLUDED.url, version = clusters.version + 1, updated_at = now()
           WHERE clusters.url IS DISTINCT FROM EXCLUDED.url
         RETURNING *`,
        [name, url],
      );
      const row = rows[0] ?? (await this.db<ClusterRow>('clusters').where({ name }).first());
      return toCluster(row as ClusterRow);
    });
  }
}
