/** Small HTTP plumbing for the double: replies, body reading, Flink-style path routing. */
import type { IncomingMessage } from 'node:http';
import { parameterError } from './java-errors';
import { HEX32 } from './request-bodies';

export type Reply = { status: number; body: unknown };
export type Params = Record<string, string>;
export type Handler = (req: IncomingMessage, params: Params, url: URL) => Reply | Promise<Reply>;
/** Method, path pattern ('/jobs/:jobid'), handler. */
export type Route = [string, string, Handler];

/** Flink answers an EmptyResponseBody as `{}`. */
export const EMPTY = {};

export function readText(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function requestUrl(req: IncomingMessage): URL {
  return new URL(req.url ?? '/', 'http://flink');
}

/** The path without the /v1 prefix: every path also answers under /v1 (the default and only REST API version). */
export function apiPath(url: URL): string {
  return url.pathname.replace(/^\/v1(?=\/)/, '');
}

/** Matches '/jobs/:jobid' against path segments; answers the named params, or null. */
export function matchPath(pattern: string, segments: string[]): Params | null {
  const parts = pattern.split('/').filter(Boolean);
  if (parts.length !== segments.length) return null;
  const params: Params = {};
  for (const [i, part] of parts.entries()) {
    const segment = segments[i] ?? '';
    if (part.startsWith(':')) params[part.slice(1)] = segment;
    else if (part !== segment) return null;
  }
  return params;
}

/** JobID and TriggerId path parameters must be 32 hex digits; Flink reads either case. */
export function checkIdParams(params: Params): Reply | null {
  for (const key of ['jobid', 'triggerid']) {
    const value = params[key];
    if (value === undefined) continue;
    if (!HEX32.test(value)) return { status: 400, body: parameterError('path', key, value) };
    params[key] = value.toLowerCase();
  }
  return null;
}
