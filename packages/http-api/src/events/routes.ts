import type Router from '@koa/router';
import type { EventCursor } from '@flink-orchestrator/domain';
import type { ApiDependencies } from '../deps';
import { HttpProblem } from '../problem';
import { validate } from '../shared/validation';
import { eventFeedSchema } from './validation';
import { encodeEventCursor, eventView } from './views';

function decodeEventCursor(raw: string): EventCursor {
  try {
    const [tx, id] = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as unknown[];
    if (typeof tx === 'string' && typeof id === 'string' && /^\d{1,20}$/.test(tx) && /^\d{1,19}$/.test(id))
      return { tx, id };
  } catch {
    // fall through: any undecodable cursor is the same client error
  }
  const message = '"after" is not a cursor this API issued (take it from an event\'s `cursor`)';
  throw new HttpProblem(400, 'validation_failed', message, [{ field: 'after', message }]);
}

/**
 * The event feed, oldest first. A reader keeps the `cursor` of the last event it handled
 * and asks again with `after=` it; the feed never shows an event before one it showed.
 */
export function eventRoutes(router: Router, deps: ApiDependencies): void {
  router.get('/api/v1/events', async (ctx) => {
    const query = validate<{ after?: string; type?: string; jobId?: string; limit: number }>(
      eventFeedSchema,
      { after: ctx.query.after, type: ctx.query.type, jobId: ctx.query.jobId, limit: ctx.query.limit },
      { convert: true },
    );
    const events = await deps.events.read({
      limit: query.limit,
      ...(query.after ? { after: decodeEventCursor(query.after) } : {}),
      ...(query.type ? { types: query.type.split(',').map((t) => t.trim()) } : {}),
      ...(query.jobId ? { jobId: query.jobId } : {}),
    });
    const last = events[events.length - 1];
    if (last && events.length === query.limit) {
      const params = new URLSearchParams(ctx.querystring);
      params.set('after', encodeEventCursor(last));
      ctx.set('Link', `<${ctx.path}?${params.toString()}>; rel="next"`);
    }
    ctx.body = events.map(eventView);
  });
}
