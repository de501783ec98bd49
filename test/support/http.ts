/** A small JSON client over fetch for tests: every call returns status, headers and parsed body. */
export interface Reply<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

import { apiContract, checkApiContract } from './api-contract';
import { TEST_TOKEN } from './test-env';

// On wherever the client is used, with or without the suite's mocha config (`--no-config`).
checkApiContract();

/**
 * Calls carry the test run's write token unless `token` says otherwise (null: none). Every
 * exchange is checked against the OpenAPI document (api-contract.ts), and one that does not
 * match fails the call with a ContractViolation.
 */
export function client(baseUrl: string, token: string | null = TEST_TOKEN) {
  async function call<T = any>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Reply<T>> {
    const auth: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    const sent: Record<string, string> = { ...auth, ...headers };
    const init: RequestInit = { method, headers: sent };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      sent['content-type'] ??= 'application/json';
    }
    const url = new URL(path, baseUrl);
    const res = await fetch(url, init);
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text so the assertion shows it
    }
    const contract = apiContract();
    if (contract) {
      const lowerCase = Object.fromEntries(Object.entries(sent).map(([name, value]) => [name.toLowerCase(), value]));
      await contract.check({
        method,
        url,
        headers: lowerCase,
        ...(typeof init.body === 'string' ? { body: init.body } : {}),
        status: res.status,
        responseHeaders: res.headers,
        text,
        json: parsed,
      });
    }
    return { status: res.status, headers: res.headers, body: parsed as T };
  }
  return {
    get: <T = any>(path: string, headers?: Record<string, string>) => call<T>('GET', path, undefined, headers),
    post: <T = any>(path: string, body?: unknown, headers?: Record<string, string>) =>
      call<T>('POST', path, body, headers),
    put: <T = any>(path: string, body?: unknown, headers?: Record<string, string>) =>
      call<T>('PUT', path, body, headers),
    delete: <T = any>(path: string, headers?: Record<string, string>) => call<T>('DELETE', path, undefined, headers),
    call,
  };
}

export type Client = ReturnType<typeof client>;
