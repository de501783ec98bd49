import Joi from 'joi';
import { HttpProblem } from '../problem';

/*
 * What every capability's request validation shares: the limits, paging, instants, and the
 * call that turns a joi failure into a 400. Each capability's own schemas are in its folder.
 */

// The OpenAPI document repeats these patterns as they are written here (`RegExp.source`): keep
// them valid ECMA-262 patterns under the `u` flag alone, which JSON Schema validators use.
// No `i` flag: a pattern's text cannot carry it.
export const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** The limits the API enforces; the OpenAPI document states the same numbers. */
export const LIMITS = {
  nameLength: 255,
  urlLength: 2048,
  bareJarNameLength: 255,
  classLength: 255,
  configKeys: 100,
  configKeyLength: 128,
  configValueLength: 4096,
  parallelism: 10_000,
  version: 2_147_483_647,
  pathLength: 1024,
  cronLength: 255,
  timezoneLength: 64,
  instantLength: 64,
  pageSize: 500,
  defaultPageSize: 50,
  cursorLength: 512,
  restartWindowMinutes: 7 * 24 * 60,
} as const;

export const pageSchema = Joi.object({
  limit: Joi.number().integer().min(1).max(LIMITS.pageSize).default(LIMITS.defaultPageSize),
  cursor: Joi.string().max(LIMITS.cursorLength),
});

/** What `since` and `until` may look like; parseInstant also checks the ranges. */
export const INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+ -]\d{2}:\d{2}))?$/;

/**
 * An ISO 8601 instant: a date (midnight UTC) or a date and time with `Z` or an offset.
 * A time without a zone is refused: it would mean the server's local time. A space
 * before the offset is read as `+`, which is what an unencoded `+` in a query string
 * turns into.
 */
export function parseInstant(text: string): Date | null {
  const m = INSTANT.exec(text);
  if (!m) return null;
  const [, year, month, day, hour = '00', minute = '00', second = '00', fraction = '', zone = 'Z'] = m;
  const inRange = (value: string, max: number, min = 0) => Number(value) >= min && Number(value) <= max;
  const daysInMonth = new Date(Date.UTC(Number(year), Number(month), 0)).getUTCDate();
  if (!inRange(month as string, 12, 1) || !inRange(day as string, daysInMonth, 1)) return null;
  if (!inRange(hour, 23) || !inRange(minute, 59) || !inRange(second, 59)) return null;
  if (zone !== 'Z' && (!inRange(zone.slice(1, 3), 23) || !inRange(zone.slice(4, 6), 59))) return null;
  const offset = zone === 'Z' ? 'Z' : `${zone[0] === '-' ? '-' : '+'}${zone.slice(1)}`;
  const date = new Date(`${year}-${month}-${day}T${hour}:${minute}:${second}${fraction.slice(0, 4)}${offset}`);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** A query parameter holding an instant (`since`, `until`). */
export const instant = Joi.string()
  .max(LIMITS.instantLength)
  .custom((value: string, helpers) => parseInstant(value) ?? helpers.error('instant.base'))
  .messages({
    'instant.base':
      '{{#label}} must be an ISO 8601 date ("2026-12-01") or date-time with a zone ("2026-12-01T08:00:00Z")',
  });

/** Validates `input`; a failure is a 400 naming every bad field. */
export function validate<T>(schema: Joi.Schema, input: unknown, options: { convert?: boolean } = {}): T {
  // JSON bodies are typed already: "5" is not a number there. Query strings convert.
  // An absent body reaches here as {}; a JSON `null` is a body, and not an object.
  const result = schema.validate(input === undefined ? {} : input, {
    abortEarly: false,
    convert: options.convert ?? false,
  });
  if (result.error) {
    const details = result.error.details.map((d) => ({ field: d.path.join('.') || null, message: d.message }));
    throw new HttpProblem(400, 'validation_failed', details.map((d) => d.message).join('; '), details);
  }
  return result.value as T;
}
