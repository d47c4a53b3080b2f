#!/usr/bin/env bash
# Installs what is missing, then starts the product.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

# Only the policy engine (packages/routing-core) exists so far. The console,
# the SMTP node and the web UI are separate issues; their entry points say so
# and exit non-zero rather than pretend to serve anything.
pnpm --filter @ims/server run start
