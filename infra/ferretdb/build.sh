#!/usr/bin/env bash
# Builds the FerretDB launcher (infra/ferretdb/bin/ferretdb) with this machine's Go toolchain.
set -euo pipefail
cd "$(dirname "$0")"
export PATH="$PATH:/usr/local/go/bin"
if [ -x bin/ferretdb ] && [ bin/ferretdb -nt main.go ] && [ bin/ferretdb -nt go.sum ]; then
  exit 0
fi
command -v go >/dev/null || { echo "Go is needed to build FerretDB (expected in /usr/local/go/bin)" >&2; exit 1; }
echo "building FerretDB v1.24.2 (first time only, about a minute)…"
go build -o bin/ferretdb .
