#!/usr/bin/env bash
# `npm test`: installs what is missing, then type-checks, lints and runs every workspace's tests.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
bash "$root/infra/dev/ensure.sh"
cd "$root"
npx tsc -p tsconfig.json
npx turbo run typecheck --output-logs=errors-only
npx eslint .
npx turbo run test --concurrency=2 --output-logs=full
