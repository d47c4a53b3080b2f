#!/usr/bin/env bash
# The whole test suite, as CI runs it: install what is missing, then lint,
# type-check, every test, and a smoke run of the benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

# The browser tests drive Debian's Chromium (playwright-core cannot download a
# browser here): install it when it is missing (CI runs as root).
if ! command -v chromium >/dev/null 2>&1; then
  echo "setup: installing Debian's chromium for the browser tests" >&2
  sudo_=""
  if [[ "$(id -u)" != 0 ]]; then sudo_="sudo"; fi
  $sudo_ apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq chromium >&2
fi

results="$(mktemp -d)/vitest.json"

echo "== lint"
pnpm run lint
echo "== typecheck"
pnpm run typecheck
echo "== build the web app (fails if its initial JavaScript is over budget)"
pnpm --filter @ims/web run build
echo "== tests"
pnpm exec vitest run --reporter=default --reporter=json --outputFile.json="$results"
echo "== benchmark smoke run (checks both implementations agree; speed is reported, not tested)"
pnpm --filter @ims/bench-routing-core run bench --quick

# One plain closing line for whoever reads the end of the log.
node -e '
  const r = require(process.argv[1]);
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' "$results"
