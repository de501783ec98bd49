/*
 * What the API answers, one capability's views in its folder (jobs/views.ts, ...). The OpenAPI
 * document describes these shapes in each capability's schemas.ts; the API tests check every
 * answer they receive against it, and views of sample records too.
 */

/** An instant as the API writes it: `Date.prototype.toISOString()`. */
export type Instant = string;

export const iso = (d: Date | null) => (d ? d.toISOString() : null);
