import { knexConfig } from '@flink-orchestrator/postgres';

// Used by `npm run migrate` and the knex CLI; the API builds the same config in code.
export default knexConfig(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/orchestrator');
