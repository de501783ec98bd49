import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { KoaAdapter } from '@bull-board/koa';
import { sameSecret, type TokenAuthority } from '@flink-orchestrator/http-api';
import type { Queue } from 'bullmq';
import type { Context, Middleware, Next } from 'koa';

export const BOARD_PATH = '/admin/queues';

export interface BoardOptions {
  queues: Queue[];
  readOnly: boolean;
  /** Decides from the request headers; the caller owns the credential rules. */
  authorize(ctx: Context): boolean;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Bull Board at /admin/queues, behind `authorize`, its changes only from its own pages. */
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
    if (ctx.path !== BOARD_PATH && !ctx.path.startsWith(`${BOARD_PATH}/`)) {
      await next();
      return;
    }
    if (!options.authorize(ctx)) {
      ctx.status = 401;
      ctx.set('WWW-Authenticate', 'Basic realm="Bull Board", charset="UTF-8"');
      ctx.body = { error: { code: 'unauthorized', message: 'The queue dashboard needs credentials.' } };
      return;
    }
    if (!SAFE_METHODS.has(ctx.method) && !sameOrigin(ctx)) {
      ctx.status = 403;
      ctx.body = {
        error: { code: 'forbidden', message: 'Queue changes are accepted only from the dashboard’s own pages.' },
      };
      return;
    }
    await board(ctx, next);
  };
}

/**
 * A browser resends basic-auth credentials to any site that posts to us, so a change must
 * come from a page of this origin (CSRF). A bearer header cannot be forged cross-site.
 */
function sameOrigin(ctx: Context): boolean {
  if (ctx.get('Authorization').startsWith('Bearer ')) return true;
  const own = `${ctx.protocol}://${ctx.host}`;
  const origin = ctx.get('Origin');
  if (origin) return origin === own;
  const referer = ctx.get('Referer');
  return referer === own || referer.startsWith(`${own}/`);
}

/** HTTP basic auth against one user, compared in constant time. */
export function basicAuth(user: string, password: string): (ctx: Context) => boolean {
  const expected = `${user}:${password}`;
  return (ctx) => {
    const header = ctx.get('Authorization');
    if (!header.startsWith('Basic ')) return false;
    const given = Buffer.from(header.slice(6), 'base64').toString('utf8');
    return sameSecret(given, expected);
  };
}

/** A write API token opens the board: as a bearer header, or as the password of basic auth (a browser). */
export function writeToken(tokens: TokenAuthority): (ctx: Context) => boolean {
  return (ctx) => tokens.fromRequest(ctx)?.access === 'write';
}

/** Any of the given rules. */
export function anyOf(...rules: ((ctx: Context) => boolean)[]): (ctx: Context) => boolean {
  return (ctx) => rules.some((rule) => rule(ctx));
}
