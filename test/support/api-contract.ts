import { openApiDocument } from '@flink-orchestrator/http-api';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { OpenAPIBackend, type Document, type Operation } from 'openapi-backend';
import { GiveUp } from './wait';

/**
 * Checks real API traffic against the API's own OpenAPI document, with openapi-backend
 * (routing, parameter and body validation) over ajv in the document's dialect, JSON Schema
 * 2020-12, with ajv-formats. The test client calls it for every exchange when the check is on
 * (the fast suite's mocha config turns it on):
 *
 * - the answer's status must be one the operation documents, its body must match the schema
 *   documented for that status, and its headers the documented headers;
 * - a request the document refuses must not be accepted by the API (a 2xx): that would be a
 *   document refusing valid traffic. Requests a test sends invalid on purpose are refused by
 *   both, and their answer is still checked against the document.
 */
export class ContractViolation extends GiveUp {
  override name = 'ContractViolation';
}

export interface Exchange {
  method: string;
  url: URL;
  /** Request headers, names in lower case. */
  headers: Record<string, string>;
  /** The request body as sent. */
  body?: string;
  status: number;
  responseHeaders: Headers;
  /** The answer's text, and its parsed JSON when it is JSON. */
  text: string;
  json: unknown;
}

type Answer = {
  content?: Record<string, unknown>;
  headers?: Record<string, { required?: boolean }>;
};

function ajvFor(_ajv: unknown, options: object): never {
  const ajv = new Ajv2020({ ...options, strict: false, allErrors: true });
  addFormats(ajv);
  return ajv as never;
}

export class ApiContract {
  private readonly backend: OpenAPIBackend;
  private readonly ready: Promise<unknown>;

  constructor(document: object = openApiDocument()) {
    this.backend = new OpenAPIBackend({
      definition: structuredClone(document) as Document,
      // quick: no check of the document by openapi-backend's own validator, which knows only
      // OpenAPI 3.0 (the test of the document validates it as 3.1); dereferences at once.
      quick: true,
      strict: true,
      customizeAjv: ajvFor,
    });
    this.ready = this.backend.init();
  }

  /** Throws a ContractViolation naming the operation and what does not match. */
  async check(x: Exchange): Promise<void> {
    const problems = await this.problems(x);
    if (problems.length === 0) return;
    const op = this.operationOf(x);
    const name = op ? `${op.operationId} (${x.method} ${op.path})` : `${x.method} ${x.url.pathname}`;
    throw new ContractViolation(
      [
        `OpenAPI document and API disagree on ${name}:`,
        ...problems.map((p) => `  - ${p}`),
        `  request: ${x.method} ${x.url.pathname}${x.url.search}${x.body !== undefined ? ` ${clip(x.body)}` : ''}`,
        `  answer: ${x.status} ${clip(x.text)}`,
      ].join('\n'),
    );
  }

  private operationOf(x: Exchange): Operation | undefined {
    return this.backend.router.matchOperation(this.requestOf(x));
  }

  private requestOf(x: Exchange) {
    const isJson = (x.headers['content-type'] ?? '').startsWith('application/json');
    let body: unknown = x.body;
    if (x.body !== undefined && isJson) {
      try {
        body = JSON.parse(x.body);
      } catch {
        // malformed on purpose: openapi-backend reports it
      }
    }
    return { method: x.method.toLowerCase(), path: `${x.url.pathname}${x.url.search}`, headers: x.headers, body };
  }

  /** What does not match, one line each; none when the exchange is as documented. */
  async problems(x: Exchange): Promise<string[]> {
    await this.ready;
    return this.problemsOf(x);
  }

  private problemsOf(x: Exchange): string[] {
    const op = this.operationOf(x);
    // Not described: the Swagger UI's assets, and paths that are no route at all.
    if (!op) {
      if (x.url.pathname.startsWith('/docs/')) return [];
      const code = (x.json as { error?: { code?: string } } | undefined)?.error?.code;
      // A method the path lacks is no operation either: 405 method_not_allowed (never a bare status).
      // Checked before the route: the token (on /api/), then the body's media type and JSON.
      const beforeRouting = ['unsupported_media_type', 'malformed_json', 'payload_too_large'];
      const expected = x.url.pathname.startsWith('/api/')
        ? ['route_not_found', 'method_not_allowed', 'unauthorized', 'forbidden', ...beforeRouting]
        : ['route_not_found', 'method_not_allowed', ...beforeRouting];
      return code && expected.includes(code) ? [] : [`no operation is described for ${x.method} ${x.url.pathname}`];
    }
    const problems: string[] = [];
    const request = this.backend.validateRequest(this.requestOf(x), op);
    if (!request.valid && x.status < 300) {
      problems.push(`the document refuses this request, which the API accepted: ${errorsText(request.errors)}`);
    }
    const answer = (op.responses as Record<string, Answer>)[String(x.status)];
    if (!answer) {
      problems.push(
        `status ${x.status} is not among the documented answers (${Object.keys(op.responses ?? {}).join(', ')})`,
      );
      return problems;
    }
    problems.push(...this.bodyProblems(x, op, answer), ...this.headerProblems(x, op, answer));
    return problems;
  }

  private bodyProblems(x: Exchange, op: Operation, answer: Answer): string[] {
    const mediaTypes = Object.keys(answer.content ?? {});
    if (mediaTypes.length === 0) return x.text === '' ? [] : [`answer ${x.status} should have no body`];
    const type = (x.responseHeaders.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
    if (!mediaTypes.includes(type))
      return [`answer ${x.status} is ${type || 'untyped'}, not ${mediaTypes.join(' or ')}`];
    if (type !== 'application/json') return [];
    const result = this.backend.validateResponse(x.json, op, x.status);
    return result.valid ? [] : [`answer ${x.status} does not match its schema: ${errorsText(result.errors)}`];
  }

  private headerProblems(x: Exchange, op: Operation, answer: Answer): string[] {
    const headers = Object.fromEntries(x.responseHeaders.entries());
    const problems = Object.entries(answer.headers ?? {})
      .filter(([name, h]) => h.required && !x.responseHeaders.has(name))
      .map(([name]) => `answer ${x.status} lacks the header ${name}`);
    const result = this.backend.validateResponseHeaders(headers, op, { statusCode: x.status });
    if (!result.valid) problems.push(`answer ${x.status} headers: ${errorsText(result.errors)}`);
    return problems;
  }
}

function errorsText(errors: { instancePath?: string; message?: string; params?: unknown }[] | null | undefined) {
  return (errors ?? [])
    .map((e) => `${e.instancePath || '/'} ${e.message ?? ''}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`)
    .join('; ');
}

const clip = (text: string) => (text.length > 600 ? `${text.slice(0, 600)}…` : text);

let shared: ApiContract | null = null;

/** Turns the check on for every call of the test client (test/support/http.ts) in this process. */
export function checkApiContract(): void {
  shared ??= new ApiContract();
}

/** The check of this process, when it is on. */
export const apiContract = (): ApiContract | null => shared;
