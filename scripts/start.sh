#!/usr/bin/env bash
# Installs what is missing, then starts the product on its embedded defaults:
# the console on http://127.0.0.1:8080 (IMS_HTTP_HOST / IMS_HTTP_PORT), data
# under ./data (IMS_DATA_DIR). On first start it prints the admin password
# (or takes IMS_ADMIN_PASSWORD).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

# The web UI is built into apps/web/dist, which the console serves at `/`.
pnpm --filter @ims/web run build >&2

# Starting a local SMTP node with the console comes with a later issue: this
# starts the console, its REST API (docs at /docs) and the web UI, and says so.
echo "Starting the console and the web UI only: no local SMTP node is started yet (see README, apps/smtp)." >&2
exec pnpm --filter @ims/server run start
