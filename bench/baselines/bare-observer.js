// Baseline for the tracking benchmark (8): the least any observer does per cluster and poll,
// and nothing else. GET /jobs/overview with axios (as our Flink client), the cluster's running
// executions from PostgreSQL with `pg`, one Map lookup per execution. No writes, no Redis,
// no metrics. CLUSTERS is `name=url,name=url`; prints `bare observer ready`.
const axios = require('axios');
const { clearTimeout } = require('node:timers');
const { Pool } = require('pg');

const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 4 });
const poll = Number(process.env.POLL_INTERVAL_MS);
const clusters = process.env.CLUSTERS.split(',').map((pair) => pair.split('='));
let timer;
let differ = 0;

async function observe(name, url) {
  const { data } = await axios.get(`${url}/jobs/overview`, { timeout: 10_000 });
  const onFlink = new Map(data.jobs.map((job) => [job.jid, job.state]));
  const { rows } = await pool.query(
    `SELECT id, status, flink_job_id, flink_state FROM job_executions
      WHERE cluster = $1 AND status IN ('SUBMITTING', 'RUNNING', 'STOPPING') AND flink_job_id IS NOT NULL`,
    [name],
  );
  for (const row of rows) if (onFlink.get(row.flink_job_id) !== row.flink_state) differ++;
}

async function loop() {
  await Promise.all(clusters.map(([name, url]) => observe(name, url)));
  timer = setTimeout(() => void loop().catch(fail), poll);
}

function fail(error) {
  process.stderr.write(`bare observer: ${error.stack}\n`);
  process.exit(1);
}

loop().then(() => process.stdout.write('bare observer ready\n'), fail);
process.on('SIGTERM', () => {
  clearTimeout(timer);
  process.stdout.write(`differ ${differ}\n`);
  void pool.end().then(() => process.exit(0));
});
