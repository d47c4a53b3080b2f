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

# --frozen-lockfile: CI and fresh clones get exactly the locked versions.
pnpm install --frozen-lockfile --reporter=append-only >&2
