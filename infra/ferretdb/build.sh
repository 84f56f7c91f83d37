#!/usr/bin/env bash
# Builds the FerretDB launcher (infra/ferretdb/bin/ferretdb) with this machine's Go toolchain.
#
# FerretDB v1.24.2's SQLite backend indexes `_id` as `_ferretdb_sjson->"_id"` but looks documents up
# by `_ferretdb_sjson->'$._id'`. SQLite only uses an index whose expression matches the query's, so
# every find, update and delete by `_id` scanned its whole table. The build patches that one constant
# to `->'_id'` (what the PostgreSQL backend uses), which SQLite matches to the index (docs/architecture.md §8).
#
# serialize-writes.patch makes writers to one database file wait on a Go mutex instead of in SQLite's
# busy handler, which sleeps up to 100 ms between tries while the lock may long have been free.
set -euo pipefail
cd "$(dirname "$0")"
export PATH="$PATH:/usr/local/go/bin"
if [ -x bin/ferretdb ] && [ bin/ferretdb -nt main.go ] && [ bin/ferretdb -nt go.sum ] && [ bin/ferretdb -nt build.sh ] \
  && [ bin/ferretdb -nt serialize-writes.patch ]; then
  exit 0
fi
command -v go >/dev/null || { echo "Go is needed to build FerretDB (expected in /usr/local/go/bin)" >&2; exit 1; }
echo "building FerretDB v1.24.2 (first time only, about a minute)…"
go mod download github.com/FerretDB/FerretDB
upstream=$(go list -m -f '{{.Dir}}' github.com/FerretDB/FerretDB)
patched=build/ferretdb
rm -rf build && mkdir -p build && cp -r "$upstream" "$patched" && chmod -R u+w "$patched"
constant=internal/backends/sqlite/metadata/metadata.go
sed -i "s|IDColumn = DefaultColumn + \"->'\\\$._id'\"|IDColumn = DefaultColumn + \"->'_id'\"|" "$patched/$constant"
grep -q "IDColumn = DefaultColumn + \"->'_id'\"" "$patched/$constant" \
  || { echo "FerretDB's $constant is not what this build patches; check the _id lookup by hand" >&2; exit 1; }
command -v patch >/dev/null || { echo "patch is needed to build FerretDB (apt-get install patch)" >&2; exit 1; }
patch --quiet --forward -p1 -d "$patched" < serialize-writes.patch
cp go.mod go.sum build/
go mod edit -modfile=build/go.mod -replace "github.com/FerretDB/FerretDB=./build/ferretdb"
go build -modfile=build/go.mod -o bin/ferretdb .
rm -rf build
