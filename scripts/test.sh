#!/usr/bin/env bash
# The whole test suite, as CI runs it: install what is missing, then lint,
# type-check, every test, and a smoke run of the benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

results="$(mktemp -d)/vitest.json"
# The reliability batteries (issue #8) record their counts here; docs/reliability.md is written from them.
export IMS_RELIABILITY_DIR="$(mktemp -d)"

echo "== lint"
pnpm run lint
echo "== typecheck"
pnpm run typecheck
echo "== tests"
status=0
pnpm exec vitest run --reporter=default --reporter=json --outputFile.json="$results" || status=$?
echo "== reliability summary (docs/reliability.md, from this run's counts)"
node scripts/reliability-report.mjs || status=$((status ? status : 1))
if [ "$status" -ne 0 ]; then exit "$status"; fi
echo "== benchmark smoke run (checks both implementations agree; speed is reported, not tested)"
pnpm --filter @ims/bench-routing-core run bench --quick

# One plain closing line for whoever reads the end of the log.
node -e '
  const r = require(process.argv[1]);
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' "$results"
