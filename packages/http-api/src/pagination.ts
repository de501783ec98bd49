import type { Context } from 'koa';
import type { PageCursor, PageRequest } from '@flink-orchestrator/domain';
import { HttpProblem } from './problem';
import { pageSchema, validate } from './shared/validation';
import { isUuid } from './ids';

/** Opaque to clients: base64url of the last row's (createdAt, id). */
export function encodeCursor(cursor: PageCursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAt.toISOString(), cursor.id])).toString('base64url');
}

function decodeCursor(raw: string): PageCursor {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as unknown[];
    const date = new Date(String(createdAt));
    if (typeof id === 'string' && isUuid(id) && !Number.isNaN(date.getTime())) return { createdAt: date, id };
  } catch {
    // fall through: any undecodable cursor is the same client error
  }
  throw new HttpProblem(400, 'validation_failed', '"cursor" is not a cursor this API issued', [
    { field: 'cursor', message: '"cursor" is not a cursor this API issued' },
  ]);
}

/** Reads ?limit and ?cursor; asks the repository for one row more to learn if a next page exists. */
export function readPage(ctx: Context): { page: PageRequest; limit: number } {
  const { limit, cursor } = validate<{ limit: number; cursor?: string }>(
    pageSchema,
    { limit: ctx.query.limit, cursor: ctx.query.cursor },
    { convert: true },
  );
  return { limit, page: { limit: limit + 1, ...(cursor ? { after: decodeCursor(cursor) } : {}) } };
}

/** Trims the extra row and, when there is more, sets `Link: <...>; rel="next"`. */
export function pageOf<T extends { createdAt: Date; id: string }>(ctx: Context, rows: T[], limit: number): T[] {
  if (rows.length <= limit) return rows;
  const page = rows.slice(0, limit);
  const last = page[page.length - 1] as T;
  const params = new URLSearchParams(ctx.querystring);
  params.set('limit', String(limit));
  params.set('cursor', encodeCursor(last));
  ctx.set('Link', `<${ctx.path}?${params.toString()}>; rel="next"`);
  return page;
}
