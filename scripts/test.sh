#!/usr/bin/env bash
# The whole test suite, as CI runs it: install what is missing, then lint,
# type-check, build the web app, every test, and a smoke run of every benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

# The browser tests drive Debian's Chromium (playwright-core cannot download a
# browser here), the benchmark smoke runs drive Postfix's smtp-source against a
# private Postfix, and the README's commands (run by e2e/readme.test.ts) use jq
# and swaks: install them when missing (CI runs as root).
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v smtp-source >/dev/null 2>&1 || missing+=(postfix)
command -v jq >/dev/null 2>&1 || missing+=(jq)
command -v swaks >/dev/null 2>&1 || missing+=(swaks)
if ((${#missing[@]} > 0)); then
  echo "setup: installing Debian's ${missing[*]}" >&2
  sudo_=""
  if [[ "$(id -u)" != 0 ]]; then sudo_="sudo"; fi
  # Postfix asks nothing and starts nothing system-wide: the benchmark runs its own instance.
  echo "postfix postfix/main_mailer_type select No configuration" | $sudo_ debconf-set-selections
  $sudo_ apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq "${missing[@]}" >&2
fi

results="$(mktemp -d)/vitest.json"
# The reliability batteries record their counts here; docs/reliability.md is written from them.
export IMS_RELIABILITY_DIR="$(mktemp -d)"

echo "== lint"
pnpm run lint
echo "== typecheck"
pnpm run typecheck
echo "== build the web app (fails if its initial JavaScript is over budget)"
pnpm --filter @ims/web run build
echo "== build the CLI (bin/ims.mjs runs the build while it is newer than the sources: the"
echo "   CLI tests and the README's commands call \`ims\` about a hundred times, 0.6 s each built"
echo "   against 1.6 s through tsx)"
node scripts/build.mjs --outdir apps/cli/build apps/cli/src/main.ts
echo "== tests"
status=0
pnpm exec vitest run --reporter=default --reporter=json --outputFile.json="$results" || status=$?
echo "== reliability summary (docs/reliability.md, from this run's counts)"
node scripts/reliability-report.mjs || status=$((status ? status : 1))
if [ "$status" -ne 0 ]; then exit "$status"; fi
echo "== benchmark smoke runs (tiny sizes, so they cannot rot; speed is reported, not tested)"
node scripts/bench.mjs --quick

# One plain closing line for whoever reads the end of the log.
node -e '
  const r = require(process.argv[1]);
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' "$results"
