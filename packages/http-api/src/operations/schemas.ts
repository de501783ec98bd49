import { exactly, type JsonSchema } from '../shared/schemas';

const HEALTH_STATE = { enum: ['ok', 'unavailable', 'unreachable'] };

/** What /health and /health/live answer. */
export const OPERATIONS_SCHEMAS: Record<string, JsonSchema> = {
  Health: exactly({
    status: { enum: ['ok', 'unavailable'] },
    checks: {
      type: 'object',
      description: 'per dependency; "unreachable" marks one that does not decide readiness (Flink)',
      additionalProperties: HEALTH_STATE,
    },
  }),
  Liveness: exactly({ status: { const: 'ok' } }),
};
