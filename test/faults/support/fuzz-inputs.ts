/** Values for the fuzz suite: strings, numbers and shapes that break parsers, queries and validators. */
export const NASTY: unknown[] = [
  '',
  ' ',
  'a'.repeat(10_000),
  '💥🔥'.repeat(100),
  "'; DROP TABLE jobs; --",
  '" OR 1=1 --',
  '../../../../etc/passwd',
  '%2e%2e%2f%2e%2e%2f',
  '\u0000\u0001\u001f',
  '<script>alert(1)</script>',
  'file:///etc/passwd',
  'http://169.254.169.254/latest/meta-data.jar',
  'javascript:alert(1)',
  '* * * * * * * *',
  '61 * * * *',
  '@reboot',
  'Mars/Olympus',
  -1,
  0,
  1e308,
  -0,
  Number.MAX_SAFE_INTEGER + 2,
  1.5,
  true,
  false,
  null,
  [],
  [1, 2, 3],
  {},
  { $ne: null },
  { nested: { deeper: { deepest: [1, { a: 'b' }] } } },
  { __proto__: { admin: true } },
];

/** Body fields of every endpoint (jobs, clusters, upgrades, schedules, webhooks), and a few traps. */
export const FIELDS = [
  'name',
  'jarURL',
  'entryClass',
  'config',
  'parallelism',
  'enabled',
  'scheduleCron',
  'cron',
  'timezone',
  'overlap',
  'replace',
  'preflightMinutes',
  'startAt',
  'endAt',
  'action',
  'savepoint',
  'drain',
  'restoreFrom',
  'savepointPath',
  'allowNonRestoredState',
  'mode',
  'admission',
  'cluster',
  'restartPolicy',
  'savepointRetention',
  'version',
  'url',
  'auth',
  'savepointDir',
  'events',
  'format',
  'secret',
  'jobId',
  'constructor',
  'prototype',
];

/** Values no field of any endpoint accepts. */
export const NEVER_VALID: unknown[] = [
  [1, 2, 3],
  { nested: { a: 1 } },
  { $ne: null },
  1e308,
  '\u0000'.repeat(3) + 'x'.repeat(5000),
];

/** If-Match values that name no version the fixtures have (never empty, never `*`: those mean any). */
export const BAD_IF_MATCH = ['"0"', '"99999999"', 'W/"99999999"', 'nonsense', '"abc"', '"-1"', '"1", "2"', 'W/'];

export type Pick = <T>(xs: readonly T[]) => T;

/** Bodies wrong in at least one way (one field always holds a value nothing accepts), plus random noise. */
export function badBody(next: () => number, pick: Pick): unknown {
  const roll = next();
  // Not an object, sent as JSON text: a raw '' would be no body at all, which a start rightly accepts.
  if (roll < 0.08)
    return JSON.stringify(pick(NASTY.filter((v) => v === null || typeof v !== 'object' || Array.isArray(v))));
  const body: Record<string, unknown> = {};
  const n = Math.floor(next() * 4);
  for (let i = 0; i < n; i++) body[pick(FIELDS)] = pick(NASTY);
  body[pick(FIELDS)] = pick(NEVER_VALID);
  if (roll > 0.9) body[`unknown_${Math.floor(next() * 1000)}`] = 'x';
  return body;
}

/** `?name=value` with one nasty value: two of 10,000 characters would pass Node's 16 KiB header limit (431). */
export function nastyQuery(pick: Pick, names: readonly string[]): string {
  return `?${encodeURIComponent(pick(names))}=${encodeURIComponent(String(pick(NASTY)))}`;
}
