#!/usr/bin/env bash
# Build actionlint, the GitHub Actions workflow checker that tests/tools/test_workflows.py runs on
# .github/workflows/, from its Go module into the toolchain cache's bin/. Builds only when the
# binary is missing or is not the version pinned in versions.env; prints one line saying which.
# actionlint hands `run:` scripts to shellcheck when shellcheck is on PATH (Debian's `shellcheck`,
# installed by scripts/setup.sh); the last line says whether it is there.
# Usage: offline/toolchain/actionlint.sh   (GO=/path/to/go to use another Go, 1.25 or newer)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"   # ACTIONLINT_MODULE, ACTIONLINT_VERSION
# shellcheck source=env.sh
source "$here/env.sh"         # TOOLCHAIN_DIR

GO="${GO:-$(command -v go || echo /usr/local/go/bin/go)}"
BIN="$TOOLCHAIN_DIR/bin"
LOG="$TOOLCHAIN_DIR/logs/actionlint-$ACTIONLINT_VERSION.log"
say() { printf '[actionlint] %s\n' "$*"; }

# `actionlint -version` prints the module version it was built from on its first line.
have="$("$BIN/actionlint" -version 2>/dev/null | head -n 1 || true)"
if [[ $have == "$ACTIONLINT_VERSION" ]]; then
  say "$ACTIONLINT_VERSION: cached ($BIN/actionlint)"
else
  t0=$SECONDS
  mkdir -p "$BIN" "$(dirname "$LOG")"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  # Same module and build caches as build.sh; this Go only (the proxy here serves no toolchains).
  # `go install M@V` builds from the module's own go.mod and go.sum: no replaces to lay out.
  if ! GOMODCACHE="$TOOLCHAIN_DIR/go/mod" GOCACHE="$TOOLCHAIN_DIR/go/build" GOTOOLCHAIN=local \
       GOFLAGS=-buildvcs=false GOBIN="$tmp" CGO_ENABLED=0 \
       "$GO" install -trimpath -ldflags="-s -w" \
       "$ACTIONLINT_MODULE/cmd/actionlint@$ACTIONLINT_VERSION" >"$LOG" 2>&1; then
    say "$ACTIONLINT_VERSION: FAILED after $((SECONDS - t0))s (log: $LOG)"
    tail -n 5 "$LOG" | sed 's/^/    /'
    exit 1
  fi
  mv -f "$tmp/actionlint" "$BIN/actionlint"
  say "$ACTIONLINT_VERSION: built in $((SECONDS - t0))s (was: ${have:-none}) -> $BIN/actionlint"
fi

if command -v shellcheck >/dev/null; then
  say "shellcheck $(shellcheck --version | sed -n 's/^version: //p') on PATH: run scripts are checked too"
else
  say "shellcheck not on PATH: run scripts are NOT checked (tests/tools/test_workflows.py requires it)"
fi
