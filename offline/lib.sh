# shellcheck shell=bash
# Shell helpers shared by the build scripts (sourced, not run). The caller sets GO, GOMODCACHE and
# SAY_PREFIX before using them.

# say MESSAGE...: one progress line, prefixed with the script's name.
say() { printf '[%s] %s\n' "$SAY_PREFIX" "$*"; }

# moddir MODULE VERSION: download the module (once) into GOMODCACHE and print its directory; on failure
# say why (the proxy's answer) on stderr and return 1.
moddir() {
  local json dir
  mkdir -p "$GOMODCACHE"
  # From a directory without go.mod, so `go mod download M@V` works on M alone.
  json="$(cd "$GOMODCACHE" && "$GO" mod download -json "$1@$2" || true)"
  dir="$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p' <<<"$json")"
  if [[ -z $dir ]]; then
    echo "not fetched: $1@$2: $(sed -n 's/^[[:space:]]*"Error": "\(.*\)",*$/\1/p' <<<"$json")" >&2
    return 1
  fi
  echo "$dir"
}

# copytree DIR DEST: a writable copy of a module tree (the module cache is read-only), so that a build can
# lay out the replaces its go.mod expects or add files.
copytree() { rm -rf "$2"; mkdir -p "$(dirname "$2")"; cp -r "$1" "$2"; chmod -R u+w "$2"; }
