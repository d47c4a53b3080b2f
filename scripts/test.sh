#!/usr/bin/env bash
# The whole test suite, as CI runs it: install what is missing, then lint,
# type-check, every test, and a smoke run of the benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

results="$(mktemp -d)/vitest.json"

echo "== lint"
pnpm run lint
echo "== typecheck"
pnpm run typecheck
echo "== tests"
pnpm exec vitest run --reporter=default --reporter=json --outputFile.json="$results"
echo "== benchmark smoke run (checks both implementations agree; speed is reported, not tested)"
pnpm --filter @ims/bench-routing-core run bench --quick

# One plain closing line for whoever reads the end of the log.
node -e '
  const r = require(process.argv[1]);
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' "$results"
