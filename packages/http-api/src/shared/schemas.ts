import type Joi from 'joi';
import parse from 'joi-to-json';

/**
 * JSON Schemas (the OpenAPI 3.1 dialect, JSON Schema 2020-12) of what the API answers, and the
 * conversion of the joi schemas it validates requests with. openapi.ts puts them in the
 * document; the API tests check every answer they receive against them, so a view that
 * changes without its schema fails a test.
 */
export type JsonSchema = Record<string, unknown>;

/**
 * joi's `oxor` (at most one of the peers) as the plain `not` of every pair, instead of
 * joi-to-json's nested oneOf, which says the same and reads much worse.
 */
function atMostOneOf(schema: JsonSchema, dependency: { peers: string[] }): void {
  const pairs: string[][] = [];
  dependency.peers.forEach((a, i) => dependency.peers.slice(i + 1).forEach((b) => pairs.push([a, b])));
  const cases = pairs.map((pair) => ({ required: pair }));
  schema.not = cases.length === 1 ? cases[0] : { anyOf: cases };
}

/**
 * joi-to-json writes a pattern as the RegExp's `toString()` without its slashes, so the flags
 * stay behind in the text (`^...$/u`), which then matches nothing. A JSON Schema pattern is the
 * RegExp's source, read with the `u` flag; `i` cannot be said at all.
 */
function patternSource(text: string): string {
  const flags = /(?<!\\)\/([dgimsuvy]+)$/.exec(text);
  if (!flags) return text;
  if (/[imsy]/.test(flags[1] as string))
    throw new Error(`the pattern ${text} has flags a JSON Schema pattern cannot carry`);
  return text.slice(0, flags.index);
}

function fixPatterns(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(fixPatterns);
  if (!node || typeof node !== 'object') return;
  const schema = node as JsonSchema;
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'pattern' && typeof value === 'string') schema.pattern = patternSource(value);
    else fixPatterns(value);
  }
}

/** The JSON Schema of a joi schema, as the OpenAPI document gives it. */
export function fromJoi(schema: Joi.Schema): JsonSchema {
  const converted = parse(
    schema,
    'open-api-3.1',
    {},
    {
      logicalOpParser: { oxor: atMostOneOf as never },
    },
  ) as JsonSchema;
  fixPatterns(converted);
  return converted;
}

export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
export const nullable = (schema: JsonSchema) => ({ ...schema, type: [schema.type, 'null'] });
export const orNull = (schema: JsonSchema) => ({ anyOf: [schema, { type: 'null' }] });
export const instant = { type: 'string', format: 'date-time' };
export const uuid = { type: 'string', format: 'uuid' };

/** An object whose every property is always there, and nothing else. */
export const exactly = (properties: Record<string, JsonSchema>, extra: JsonSchema = {}) => ({
  type: 'object',
  ...extra,
  required: Object.keys(properties),
  properties,
  additionalProperties: false,
});

export const count = { type: 'integer', minimum: 0 };
/** A new object each time: a `type` array shared between schemas gets rewritten by tools that dereference them. */
export const countOrNull = (description?: string) => ({
  type: ['integer', 'null'],
  minimum: 0,
  ...(description ? { description } : {}),
});

const FIELD_ERROR = exactly({
  field: { type: ['string', 'null'], description: 'the field, header or parameter at fault' },
  message: { type: 'string' },
});

/** The error every failure answers, whatever the capability. */
export const ERROR_SCHEMAS: Record<string, JsonSchema> = {
  FieldError: FIELD_ERROR,
  Error: exactly({
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'stable; see the list for each answer' },
        message: { type: 'string' },
        details: {
          description: 'validation_failed: the fields at fault; other codes: facts such as currentVersion',
          anyOf: [{ type: 'array', items: ref('FieldError') }, { type: 'object' }],
        },
        requestId: { type: 'string', description: 'on 5xx answers: the id the logs know the request by' },
      },
      additionalProperties: false,
    },
  }),
};

export const schemaRef = ref;
export const arrayOf = (name: string) => ({ type: 'array', items: ref(name) });
