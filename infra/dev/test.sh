#!/usr/bin/env bash
# `npm test`: installs what is missing, then type-checks, lints and runs every workspace's tests.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
bash "$root/infra/dev/ensure.sh"
cd "$root"
npx tsc -p tsconfig.json
npx turbo run typecheck --output-logs=errors-only
npx eslint .
log="$(mktemp)"
status=0
npx turbo run test --concurrency=2 --continue --output-logs=full 2>&1 | tee "$log" || status=$?
# One closing line for the whole run, summed over every workspace's Jest summary.
awk '/Tests:/ { for (i = 1; i < NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i; if ($(i+1) ~ /^skipped/) s += $i } }
     END { printf "\n%d passed, %d failed%s\n", p, f, (s ? ", " s " skipped" : "") }' "$log"
# CI shows only the end of the output: name every failed test there, with its first line of error.
grep -A3 -E '^\S+:test: +● .+ › ' "$log" | grep -v -E ':test: *$' | sed -E 's/^\S+:test: +//' | head -60 || true
rm -f "$log"
exit "$status"
