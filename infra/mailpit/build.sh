#!/usr/bin/env bash
# Builds Mailpit, the mail catcher compose runs, into infra/mailpit/bin/mailpit from the Go module proxy
# with this machine's Go toolchain. `npm run up` and the tests run it; infra/dev/ensure.sh calls this.
# Does nothing when bin/mailpit is already this version.
#
# The module on the proxy carries Mailpit's Go code and API but not its web UI's scripts (upstream builds
# them with npm and keeps them out of git), so this binary's page at / stays blank: read the mails through
# the API (/api/v1/messages, /api/v1/message/latest) or /view/latest.txt and /view/latest.html.
set -euo pipefail
cd "$(dirname "$0")"
export PATH="$PATH:/usr/local/go/bin"
version=v1.33.1
if [ -x bin/mailpit ] && bin/mailpit version --no-release-check 2>/dev/null | grep -qF " $version "; then
  exit 0
fi
command -v go >/dev/null || { echo "Go is needed to build Mailpit (expected in /usr/local/go/bin)" >&2; exit 1; }
echo "building Mailpit $version (first time only, about a minute)…"
# Into a folder of its own first, so a build that fails or is interrupted never leaves half a binary behind.
out="$(mktemp -d "${TMPDIR:-/tmp}/mailpit-build.XXXXXX")"
trap 'rm -rf "$out"' EXIT
# The version as Mailpit's own release build stamps it (its page and `mailpit version` show it, and the check above reads it).
CGO_ENABLED=0 GOBIN="$out" go install -trimpath -ldflags "-s -w -X github.com/axllent/mailpit/config.Version=$version" "github.com/axllent/mailpit@$version"
mkdir -p bin
mv "$out/mailpit" bin/mailpit
