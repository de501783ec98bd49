#!/usr/bin/env node
// Fails when a *.test.ts file in the repository is run by no mocha suite: a test that no
// suite runs is a test that silently never fails. Each suite lists its files with a dry run.
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const SUITES = [
  'packages/domain/.mocharc.json',
  '.mocharc.json',
  'test/faults/.mocharc.json',
  'test/operations/.mocharc.json',
  'test/e2e/.mocharc.json',
];
const mocha = path.join(root, 'node_modules/mocha/bin/mocha.js');

const covered = new Map();
for (const config of SUITES) {
  const out = execFileSync(process.execPath, [mocha, '--config', config, '--dry-run', '--reporter', 'json'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, LOG_LEVEL: 'silent' },
  });
  for (const test of JSON.parse(out.slice(out.indexOf('{'))).tests) {
    const file = path.relative(root, test.file);
    covered.set(
      file,
      [...(covered.get(file) ?? []), config].filter((c, i, a) => a.indexOf(c) === i),
    );
  }
}

const onDisk = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.test.ts'], {
  cwd: root,
  encoding: 'utf8',
})
  .split('\n')
  .filter(Boolean);
const orphans = onDisk.filter((file) => !covered.has(file));
const twice = [...covered].filter(([, configs]) => configs.length > 1);
for (const file of orphans) console.error(`not run by any suite: ${file}`);
for (const [file, configs] of twice) console.error(`run by more than one suite (${configs.join(', ')}): ${file}`);
if (orphans.length || twice.length) process.exit(1);
console.log(`every one of ${onDisk.length} test files is run by exactly one suite (${SUITES.join(', ')})`);
