#!/usr/bin/env bash
# `npm run up`: installs what is missing, then runs the whole service locally (Ctrl-C stops it).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
bash "$root/infra/dev/ensure.sh"
cd "$root"
exec npx tsx infra/dev/up.ts
