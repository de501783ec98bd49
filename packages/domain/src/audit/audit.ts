/** One change made through the API: who, what, on what, with what, under which request. */
export interface AuditEntry {
  /** The API token's name ("anonymous" with authentication off). */
  actor: string;
  /** `job.update`, `job.start`, `webhook.create`, ... */
  action: string;
  targetType: string;
  targetId: string | null;
  jobId: string | null;
  /** What the request asked to change, secrets redacted; null when it carried nothing (a delete). */
  changes: unknown;
  requestId: string | null;
}

export interface AuditRecord extends AuditEntry {
  id: string;
  createdAt: Date;
}

export const REDACTED = '[redacted]';

// Keys whose values are credentials wherever they appear (webhook secrets, cluster auth, config entries).
const SECRET_KEY = /secret|passw|token|credential|auth|api.?key|private.?key/i;

/** A copy with every value under a secret-looking key replaced, at any depth. */
export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) => [key, SECRET_KEY.test(key) && v !== null ? REDACTED : redactSecrets(v)]),
  );
}
