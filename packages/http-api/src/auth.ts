import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, Next } from 'koa';
import { HttpProblem } from './problem';
import { requestState } from './request-state';

export type Access = 'read' | 'write';

export interface ApiToken {
  name: string;
  token: string;
  access: Access;
}

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/** Equal secrets, compared in constant time over fixed-length digests (a length tells nothing either). */
export function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * Bearer tokens from configuration. Every candidate is compared, each in constant time
 * over fixed-length digests, so timing tells nothing about which token nearly matched.
 */
export class TokenAuthority {
  private readonly tokens: { name: string; digest: Buffer; access: Access }[];

  constructor(tokens: ApiToken[]) {
    this.tokens = tokens.map((t) => ({ name: t.name, digest: digest(t.token), access: t.access }));
  }

  identify(secret: string): { name: string; access: Access } | null {
    const given = digest(secret);
    let found: { name: string; access: Access } | null = null;
    for (const t of this.tokens)
      if (timingSafeEqual(t.digest, given) && !found) found = { name: t.name, access: t.access };
    return found;
  }

  /** `Authorization: Bearer <token>`, or HTTP basic auth with the token as password (for browsers). */
  fromRequest(ctx: Context): { name: string; access: Access } | null {
    const header = ctx.get('Authorization');
    if (header.startsWith('Bearer ')) return this.identify(header.slice(7).trim());
    if (header.startsWith('Basic ')) {
      const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
      return this.identify(decoded.slice(decoded.indexOf(':') + 1));
    }
    return null;
  }
}

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Guards /api/*: 401 without a valid token, 403 when a read-only token tries to change something. */
export function requireToken(authority: TokenAuthority, prefix = '/api/') {
  return async (ctx: Context, next: Next): Promise<void> => {
    if (!ctx.path.startsWith(prefix)) {
      await next();
      return;
    }
    const caller = authority.fromRequest(ctx);
    if (!caller) {
      ctx.set('WWW-Authenticate', 'Bearer realm="flink-orchestrator"');
      throw new HttpProblem(401, 'unauthorized', 'Send a valid API token: "Authorization: Bearer <token>".');
    }
    if (caller.access === 'read' && !READ_METHODS.has(ctx.method)) {
      throw new HttpProblem(403, 'forbidden', `Token "${caller.name}" is read-only.`);
    }
    requestState(ctx).caller = caller.name;
    requestState(ctx).access = caller.access;
    await next();
  };
}

/** Guards one exact path (the metrics endpoint when METRICS_TOKEN is set). */
export function requireSecretFor(path: string, secret: string) {
  const authority = new TokenAuthority([{ name: 'metrics', token: secret, access: 'read' }]);
  return async (ctx: Context, next: Next): Promise<void> => {
    if (ctx.path === path && !authority.fromRequest(ctx)) {
      ctx.set('WWW-Authenticate', 'Bearer realm="metrics"');
      throw new HttpProblem(401, 'unauthorized', 'The metrics endpoint needs METRICS_TOKEN as a bearer token.');
    }
    await next();
  };
}
