#!/usr/bin/env bash
# The product's start command (`npm start`): installs what is missing, builds
# the web app when apps/web has a Vite build, then starts the console on
# http://127.0.0.1:8080 (IMS_HTTP_HOST / IMS_HTTP_PORT) with one supervised
# local SMTP node on 127.0.0.1:2525 (IMS_SMTP_LISTEN / IMS_SMTP_PORT), data
# under ./data (IMS_DATA_DIR). On first start it prints the admin password (or
# takes IMS_ADMIN_PASSWORD). Arguments go to the launcher:
#   npm start -- --no-local-node     the console alone
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

# The web UI is built into apps/web/dist, which the console serves at `/`.
# A failed build is reported and the console starts anyway (API and /docs).
echo "start: building the web app (apps/web)" >&2
if ! pnpm --filter @ims/web run build >&2; then
  echo "start: the web app did not build; starting without it (API and /docs still work)" >&2
fi

# The console, the SMTP node and the CLI run as JavaScript built here once
# (scripts/build.mjs), not through the tsx loader: less memory, a quicker
# start. Development and the tests keep running the TypeScript with tsx.
echo "start: building the console, the SMTP node and the CLI to JavaScript" >&2
node scripts/build.mjs

# exec: Ctrl-C and SIGTERM reach the launcher directly, which stops the local
# SMTP node first and then the console.
exec node --enable-source-maps apps/server/build/launcher.js "$@"
