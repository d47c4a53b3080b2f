#!/usr/bin/env bash
# The whole test suite, as CI runs it: install what is missing, then lint,
# type-check, unit/integration tests, and a smoke run of the benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

echo "== lint"
pnpm run lint
echo "== typecheck"
pnpm run typecheck
echo "== tests"
pnpm exec vitest run
echo "== benchmark smoke run (checks both implementations agree; not a timing test)"
pnpm --filter @ims/bench-routing-core run bench --quick
