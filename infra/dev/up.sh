#!/usr/bin/env bash
# `npm run up`: installs what is missing, then runs the whole service locally (Ctrl-C stops it).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
bash "$root/infra/dev/ensure.sh"
cd "$root"
# The gateway serves the account pages from web/dist; build them when a source is newer.
if [ ! -f web/dist/index.html ] || [ -n "$(find web/src web/index.html -newer web/dist/index.html -print -quit)" ]; then
  echo "building the account pages…"
  npm run build --silent -w @tmuxme/web >/dev/null
fi
exec npx tsx infra/dev/up.ts
