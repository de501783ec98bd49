// Baseline for API benchmarks: a bare Koa app doing the same single-row pg query and insert.
const Koa = require('koa');
const Router = require('@koa/router');
const { bodyParser } = require('@koa/bodyparser');
const { Pool } = require('pg');

const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
const app = new Koa();
const router = new Router();

router.get('/jobs/:id', async (ctx) => {
  const { rows } = await pool.query('SELECT * FROM jobs WHERE id = $1', [ctx.params.id]);
  if (!rows[0]) ctx.throw(404);
  ctx.body = rows[0];
});

router.post('/jobs', async (ctx) => {
  const b = ctx.request.body;
  const { rows } = await pool.query('INSERT INTO jobs (name, jar_url, config) VALUES ($1, $2, $3) RETURNING *', [
    b.name,
    b.jarURL,
    JSON.stringify(b.config ?? {}),
  ]);
  ctx.status = 201;
  ctx.body = rows[0];
});

app.use(bodyParser());
app.use(router.routes());
const server = app.listen(Number(process.env.PORT), '127.0.0.1', () => {
  process.stdout.write(`bare-koa ready on ${server.address().port}\n`);
});
process.on('SIGTERM', () => server.close(() => pool.end().then(() => process.exit(0))));
