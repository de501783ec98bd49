#!/usr/bin/env bash
# Runs the given test files alone, with the fast suite's hooks: scripts/mocha-one.sh test/api/jobs.test.ts
set -euo pipefail
cd "$(dirname "$0")/.."
exec npx mocha --no-config -r tsx/cjs -r test/support/root-hooks.ts -r test/support/check-api-contract.ts \
  --node-option conditions=source --extension ts --timeout 60000 --exit "$@"
