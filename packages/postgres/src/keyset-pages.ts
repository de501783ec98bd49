import type { PageRequest } from '@flink-orchestrator/domain';
import type { Knex } from 'knex';

/**
 * One page ordered by (created_at, id) and continued after the cursor's row by a keyset
 * condition, so each page reads its rows in index order and stops. Histories are read
 * newest first (`desc`), lists of definitions (jobs, clusters, webhooks) oldest first.
 */
export function keysetPage<Q extends Knex.QueryBuilder>(query: Q, page: PageRequest, order: 'asc' | 'desc'): Q {
  query
    .orderBy([
      { column: 'created_at', order },
      { column: 'id', order },
    ])
    .limit(page.limit);
  if (page.after) {
    query.andWhereRaw(`(created_at, id) ${order === 'desc' ? '<' : '>'} (?, ?)`, [page.after.createdAt, page.after.id]);
  }
  return query;
}
