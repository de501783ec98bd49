import { createHash, timingSafeEqual } from 'node:crypto';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { KoaAdapter } from '@bull-board/koa';
import type { Queue } from 'bullmq';
import type { Context, Middleware, Next } from 'koa';

export const BOARD_PATH = '/admin/queues';

export interface BoardOptions {
  queues: Queue[];
  readOnly: boolean;
  /** Decides from the request headers; the caller owns the credential rules. */
  authorize(ctx: Context): boolean;
}

/** Bull Board at /admin/queues, behind `authorize`. */
export function boardMiddleware(options: BoardOptions): Middleware {
  const server = new KoaAdapter();
  server.setBasePath(BOARD_PATH);
  createBullBoard({
    queues: options.queues.map(
      (q) => new BullMQAdapter(q, { readOnlyMode: options.readOnly, allowRetries: !options.readOnly }),
    ),
    serverAdapter: server,
    options: { uiConfig: { boardTitle: 'Flink orchestrator' } },
  });
  const board = server.registerPlugin() as Middleware;
  return async (ctx: Context, next: Next) => {
    if (ctx.path !== BOARD_PATH && !ctx.path.startsWith(`${BOARD_PATH}/`)) return next();
    if (!options.authorize(ctx)) {
      ctx.status = 401;
      ctx.set('WWW-Authenticate', 'Basic realm="Bull Board", charset="UTF-8"');
      ctx.body = { error: { code: 'unauthorized', message: 'The queue dashboard needs credentials.' } };
      return;
    }
    return board(ctx, next);
  };
}

/** HTTP basic auth against one user, compared in constant time. */
export function basicAuth(user: string, password: string): (ctx: Context) => boolean {
  const expected = digest(`${user}:${password}`);
  return (ctx) => {
    const header = ctx.get('Authorization');
    if (!header.startsWith('Basic ')) return false;
    const given = Buffer.from(header.slice(6), 'base64').toString('utf8');
    return timingSafeEqual(digest(given), expected);
  };
}

const digest = (value: string) => createHash('sha256').update(value).digest();
