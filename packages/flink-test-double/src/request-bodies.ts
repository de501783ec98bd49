/**
 * Reading JSON request bodies the way Flink's flexible Jackson mapper does: unknown fields
 * are ignored, scalars are coerced where Jackson coerces them ("4" → 4, 4 → "4"), and
 * anything else throws BodyFormatError, which the server answers with
 * 400 "Request did not match expected format <RequestBody>.".
 */
import { randomBytes } from 'node:crypto';
import {
  bodyFormatError,
  enumProblem,
  type ErrorBody,
  fieldTypeProblem,
  hexIdProblem,
  jsonParseProblem,
  notAnObjectProblem,
} from './java-errors';

export const JAR_RUN_BODY = 'org.apache.flink.runtime.webmonitor.handlers.JarRunRequestBody';
export const JAR_PLAN_BODY = 'org.apache.flink.runtime.webmonitor.handlers.JarPlanRequestBody';
export const STOP_BODY = 'org.apache.flink.runtime.rest.messages.job.savepoints.stop.StopWithSavepointRequestBody';
export const SAVEPOINT_BODY = 'org.apache.flink.runtime.rest.messages.job.savepoints.SavepointTriggerRequestBody';

/** The message is the (shaded) Jackson problem, e.g. "core.JsonParseException: …". */
export class BodyFormatError extends Error {}

type Json = Record<string, unknown>;

/** A JobID or trigger id: 32 hex digits, either case. */
export const HEX32 = /^[0-9a-fA-F]{32}$/;

/** A fresh JobID or trigger id, as Flink makes one when the request names none. */
export function randomHexId(): string {
  return randomBytes(16).toString('hex');
}

/** Parses a request body; an empty body counts as `{}`, as in Flink's AbstractHandler. */
export function parseJsonObject(text: string, requestClass: string): Json {
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new BodyFormatError(jsonParseProblem((error as Error).message));
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new BodyFormatError(notAnObjectProblem(requestClass, value));
  }
  return value as Json;
}

/** Parses a body and reads it with `read`; a format problem becomes the 400 body Flink answers with. */
export function readBody<T>(
  text: string,
  requestClass: string,
  read: (body: Json) => T,
): { value: T } | { badRequest: ErrorBody } {
  try {
    return { value: read(parseJsonObject(text, requestClass)) };
  } catch (error) {
    if (error instanceof BodyFormatError) return { badRequest: bodyFormatError(requestClass, error.message) };
    throw error;
  }
}

/** Typed access to one body's fields; each getter answers null for an absent or null field. */
export class BodyFields {
  constructor(
    private readonly body: Json,
    private readonly requestClass: string,
  ) {}

  private mismatch(key: string, javaType: string): BodyFormatError {
    return new BodyFormatError(fieldTypeProblem(this.requestClass, key, this.body[key], javaType));
  }

  string(key: string): string | null {
    const v = this.body[key];
    if (v === undefined || v === null) return null;
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    throw this.mismatch(key, 'java.lang.String');
  }

  boolean(key: string): boolean | null {
    const v = this.body[key];
    if (v === undefined || v === null) return null;
    if (typeof v === 'boolean') return v;
    if (v === 'true' || v === 'false') return v === 'true';
    throw this.mismatch(key, 'java.lang.Boolean');
  }

  int(key: string): number | null {
    const v = this.body[key];
    if (v === undefined || v === null) return null;
    if (typeof v === 'number' && Number.isFinite(v)) return Math.trunc(v);
    if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return Number(v.trim());
    throw this.mismatch(key, 'java.lang.Integer');
  }

  stringList(key: string): string[] | null {
    const v = this.body[key];
    if (v === undefined || v === null) return null;
    if (!Array.isArray(v) || v.some((item) => typeof item === 'object' && item !== null)) {
      throw this.mismatch(key, 'java.util.ArrayList<java.lang.String>');
    }
    return v.map((item) => String(item));
  }

  stringMap(key: string): Record<string, string> | null {
    const v = this.body[key];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'object' || Array.isArray(v)) throw this.mismatch(key, 'java.util.HashMap');
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)]));
  }

  /** A JobID or TriggerId: 32 hex digits (either case), answered in lower case like Flink does. */
  hexId(key: string, what: 'JobID' | 'TriggerId'): string | null {
    const v = this.body[key];
    if (v === undefined || v === null) return null;
    if (typeof v === 'string' && HEX32.test(v)) return v.toLowerCase();
    throw new BodyFormatError(hexIdProblem(this.requestClass, key, v, what));
  }

  enumValue(key: string, enumClass: string, values: readonly string[]): string | null {
    const v = this.string(key);
    if (v === null || values.includes(v)) return v;
    throw new BodyFormatError(enumProblem(enumClass, v, values));
  }
}

export interface RunRequest {
  entryClass: string | null;
  programArgs: string | null;
  programArgsList: string[] | null;
  parallelism: number | null;
  jobId: string | null;
  savepointPath: string | null;
  allowNonRestoredState: boolean | null;
  /** claimMode if given (it wins, 1.20+), else restoreMode. */
  claimMode: string | null;
  flinkConfiguration: Record<string, string>;
}

const CLAIM_MODES = ['CLAIM', 'NO_CLAIM', 'LEGACY'] as const;

/** JarRunRequestBody. `programArgs` is read on every version; 2.x drops it later. */
export function readRunRequest(body: Json): RunRequest {
  const f = new BodyFields(body, JAR_RUN_BODY);
  const restoreMode = f.enumValue('restoreMode', 'org.apache.flink.core.execution.RestoreMode', CLAIM_MODES);
  const claimMode = f.enumValue('claimMode', 'org.apache.flink.core.execution.RecoveryClaimMode', CLAIM_MODES);
  return {
    entryClass: f.string('entryClass'),
    programArgs: f.string('programArgs'),
    programArgsList: f.stringList('programArgsList'),
    parallelism: f.int('parallelism'),
    jobId: f.hexId('jobId', 'JobID'),
    savepointPath: f.string('savepointPath'),
    allowNonRestoredState: f.boolean('allowNonRestoredState'),
    claimMode: claimMode ?? restoreMode,
    flinkConfiguration: f.stringMap('flinkConfiguration') ?? {},
  };
}

/** JarPlanRequestBody: the fields run and plan share (JarRequestBody); no savepoint or restore fields. */
export type PlanRequest = Pick<RunRequest, 'entryClass' | 'programArgs' | 'programArgsList' | 'parallelism' | 'jobId'>;

export function readPlanRequest(body: Json): PlanRequest {
  const f = new BodyFields(body, JAR_PLAN_BODY);
  f.stringMap('flinkConfiguration');
  return {
    entryClass: f.string('entryClass'),
    programArgs: f.string('programArgs'),
    programArgsList: f.stringList('programArgsList'),
    parallelism: f.int('parallelism'),
    jobId: f.hexId('jobId', 'JobID'),
  };
}

export interface SavepointRequest {
  targetDirectory: string | null;
  triggerId: string | null;
  /** stop: drain; savepoint: cancel-job. */
  drain: boolean;
  cancelJob: boolean;
}

export const DISPOSAL_BODY = 'org.apache.flink.runtime.rest.messages.job.savepoints.SavepointDisposalRequest';

/** SavepointDisposalRequest: `savepoint-path`, which Flink requires. */
export function readDisposalRequest(body: Json): { path: string | null } {
  return { path: new BodyFields(body, DISPOSAL_BODY).string('savepoint-path') };
}

const FORMAT_TYPES = ['CANONICAL', 'NATIVE'] as const;

/** StopWithSavepointRequestBody (camelCase) or SavepointTriggerRequestBody (kebab-case). */
export function readSavepointRequest(body: Json, kind: 'stop' | 'savepoint'): SavepointRequest {
  const f = new BodyFields(body, kind === 'stop' ? STOP_BODY : SAVEPOINT_BODY);
  f.enumValue('formatType', 'org.apache.flink.core.execution.SavepointFormatType', FORMAT_TYPES);
  return {
    targetDirectory: f.string(kind === 'stop' ? 'targetDirectory' : 'target-directory'),
    triggerId: f.hexId('triggerId', 'TriggerId'),
    drain: kind === 'stop' ? (f.boolean('drain') ?? false) : false,
    cancelJob: kind === 'savepoint' ? (f.boolean('cancel-job') ?? false) : false,
  };
}

/**
 * The legacy `programArgs` string, split like Flink's JarHandlerUtils.tokenizeArguments:
 * whitespace separates, quotes group, and every quote character is then dropped.
 */
export function tokenizeArguments(args: string | null): string[] {
  if (!args) return [];
  const tokens: string[] = [];
  for (const match of args.matchAll(/([^"']\S*|".+?"|'.+?')\s*/g)) {
    tokens.push(match[0].trim().replace(/["']/g, ''));
  }
  return tokens;
}
