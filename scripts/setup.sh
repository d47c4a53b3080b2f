#!/usr/bin/env bash
# Installs what a fresh machine (Node.js 20 + npm) is missing for this workspace.
# Idempotent: each step is skipped when its result is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=12.4.2
if [[ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]]; then
  echo "setup: installing pnpm $PNPM_VERSION with npm" >&2
  npm install -g --no-fund --no-audit "pnpm@$PNPM_VERSION" >&2
fi

# better-sqlite3 builds from source with node-gyp. npm on these machines is set
# up to build against Node's installed headers (its `nodedir`); pnpm's node-gyp
# does not read npm's config, so hand the setting on (else it tries to download
# the headers, and there is no network for that).
if [[ -z "${npm_config_nodedir:-}" ]]; then
  nodedir="$(npm config get nodedir 2>/dev/null || true)"
  if [[ -n "$nodedir" && "$nodedir" != "undefined" && -d "$nodedir/include/node" ]]; then
    export npm_config_nodedir="$nodedir"
  fi
fi

# --frozen-lockfile: CI and fresh clones get exactly the locked versions.
pnpm install --frozen-lockfile --reporter=append-only >&2

# `ims` on the PATH, so the README's `ims …` examples work as typed.
bash scripts/link-ims.sh
