import type { PageRequest } from '@flink-orchestrator/domain';
import type { Knex } from 'knex';

/**
 * One page of a history, newest first: ordered by (created_at, id) and continued after the
 * cursor's row by a keyset condition, so each page reads its rows in index order and stops.
 */
export function newestFirst<Q extends Knex.QueryBuilder>(query: Q, page: PageRequest): Q {
  query
    .orderBy([
      { column: 'created_at', order: 'desc' },
      { column: 'id', order: 'desc' },
    ])
    .limit(page.limit);
  if (page.after) query.andWhereRaw('(created_at, id) < (?, ?)', [page.after.createdAt, page.after.id]);
  return query;
}

/** One page of a list of definitions (jobs, clusters, webhooks), oldest first, the same way. */
export function oldestFirst<Q extends Knex.QueryBuilder>(query: Q, page: PageRequest): Q {
  query
    .orderBy([
      { column: 'created_at', order: 'asc' },
      { column: 'id', order: 'asc' },
    ])
    .limit(page.limit);
  if (page.after) query.andWhereRaw('(created_at, id) > (?, ?)', [page.after.createdAt, page.after.id]);
  return query;
}
