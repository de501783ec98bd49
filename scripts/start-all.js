// Local convenience: runs the API and one worker as two processes, as a deployment
// would, and stops both when either ends or on Ctrl-C.
const { spawn } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const env = { ...process.env };
if (!env.API_TOKENS && !env.API_READ_TOKENS && env.AUTH_DISABLED === undefined) {
  // Local convenience only: the deployment commands (start:api) refuse to run without tokens.
  env.AUTH_DISABLED = 'true';
  process.stderr.write('npm start: no API_TOKENS set, so authentication is disabled for this local run.\n');
}
const children = ['api', 'worker'].map((name) =>
  spawn(process.execPath, [path.join(root, 'packages', name, 'dist', 'main.js')], { stdio: 'inherit', env }),
);

let exiting = false;
function stopAll(code) {
  if (exiting) return;
  exiting = true;
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  Promise.all(children.map((c) => (c.exitCode !== null ? null : new Promise((r) => c.once('exit', r))))).then(() =>
    process.exit(code),
  );
}

for (const child of children) child.on('exit', (code) => stopAll(code ?? 1));
process.on('SIGINT', () => stopAll(0));
process.on('SIGTERM', () => stopAll(0));
