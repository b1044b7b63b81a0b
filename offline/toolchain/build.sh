#!/usr/bin/env bash
# Build the Pulumi toolchain from Go modules into ~/.cache/monitoring-toolchain, for machines where
# the official CLI and plugins cannot be downloaded: the CLI, the Python language host and the docker
# provider plugin, then install the plugin into PULUMI_HOME. A piece whose stamp (named with its
# version) exists is skipped, so a second run only checks. Build output goes to logs/ under the cache;
# stdout gets one timed line per step.
# The Grafana provider plugin is never built here: pulumiverse-grafana's provider module pulls Grafana's
# AGPL modules (docs/building-without-registries.md, "Never built or downloaded"). Users get it from the Pulumi registry with the official CLI.
# Usage: offline/toolchain/build.sh [--cli-only] && source offline/toolchain/env.sh
#   --cli-only: the CLI and the language host only.
set -euo pipefail
cli_only=false
for arg in "$@"; do
  case $arg in
    --cli-only) cli_only=true ;;
    *) echo "usage: $0 [--cli-only]" >&2; exit 2 ;;
  esac
done

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
# shellcheck source=env.sh
source "$here/env.sh"   # TOOLCHAIN_DIR, PULUMI_HOME, PATH

GO="${GO:-/usr/local/go/bin/go}"
BIN="$TOOLCHAIN_DIR/bin"          # pulumi and the language host, side by side
PLUGINS="$TOOLCHAIN_DIR/plugins"  # provider binaries, before `pulumi plugin install`
SRC="$TOOLCHAIN_DIR/src"          # writable copies of module trees (the mod cache is read-only)
LOGS="$TOOLCHAIN_DIR/logs"
STAMPS="$TOOLCHAIN_DIR/stamps"
mkdir -p "$BIN" "$PLUGINS" "$SRC" "$LOGS" "$STAMPS" "$PULUMI_HOME"

# Downloads and compiled packages persist across runs and are shared by all pieces.
export GOMODCACHE="$TOOLCHAIN_DIR/go/mod" GOCACHE="$TOOLCHAIN_DIR/go/build"
export GOTOOLCHAIN=local   # use this Go; never fetch another toolchain
# No .git in the copies; -mod=mod lets go complete go.sum (e.g. after adding the shim).
export GOFLAGS="-buildvcs=false -mod=mod"
# Fresh pseudo-versions of untagged modules may be unknown to the checksum database.
export GONOSUMDB="$LANGHOST_MODULE,$DOCKER_MODULE,$DOCKER_UPSTREAM_MODULE,$TF_SDK_FORK_MODULE"
cd "$TOOLCHAIN_DIR"        # no go.mod here: `go mod download M@V` works on M alone

# shellcheck disable=SC2034  # read by say, in lib.sh
SAY_PREFIX=toolchain
# shellcheck source=../lib.sh
source "$here/../lib.sh"   # say, moddir, copytree

# run_step LABEL STAMP FUNC: skip when the stamp exists, else run FUNC with its output in
# logs/STAMP.log, stamp on success, and print the time. Sets last_rc and always returns 0:
# called from an `if` or `||`, bash would silently turn off `set -e` inside FUNC.
# A module the proxy refused (403: it will not serve that version) is asked for again on the next day only,
# not on every run: the refusal is final for the day, and asking costs a second per module.
run_step() {
  local label=$1 stamp=$2 fn=$3 t0=$SECONDS refused
  refused="$STAMPS/$stamp.refused-$(date -u +%F)"
  if [[ -e $STAMPS/$stamp ]]; then say "$label: cached (0s)"; last_rc=0; return 0; fi
  if [[ -e $refused ]]; then
    say "$label: refused by the module proxy today, asked again tomorrow (log: $LOGS/$stamp.log)"
    last_rc=1; return 0
  fi
  set +e; ( set -e; "$fn" ) >"$LOGS/$stamp.log" 2>&1; last_rc=$?; set -e
  if (( last_rc == 0 )); then
    touch "$STAMPS/$stamp"; say "$label: built in $((SECONDS - t0))s"
  else
    say "$label: FAILED after $((SECONDS - t0))s (log: $LOGS/$stamp.log)"
    tail -n 5 "$LOGS/$stamp.log" | sed 's/^/    /'
    if grep -q '403 Forbidden' "$LOGS/$stamp.log"; then rm -f "$STAMPS/$stamp".refused-*; touch "$refused"; fi
  fi
}

PULUMI_TREE="$SRC/pulumi-v$PULUMI_VERSION"
PULUMI_LDFLAGS="-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION"

# pkg's go.mod replaces sdk/v3 => ../sdk: lay both out as in the repo.
pulumi_tree() {
  local d
  d="$(moddir "$PULUMI_PKG_MODULE" "v$PULUMI_VERSION")"; copytree "$d" "$PULUMI_TREE/pkg"
  d="$(moddir "$PULUMI_SDK_MODULE" "v$PULUMI_VERSION")"; copytree "$d" "$PULUMI_TREE/sdk"
}

build_pulumi() {
  pulumi_tree
  cd "$PULUMI_TREE/pkg"
  "$GO" build -p 2 -trimpath -tags osusergo,grpcnotrace -ldflags "$PULUMI_LDFLAGS" \
    -o "$BIN/pulumi" ./cmd/pulumi
}

# The host exits unless pulumi-language-python-exec sits beside it; the script must match
# the pip SDK, so it always comes from the pinned sdk module.
install_exec_script() {
  local d
  d="$(moddir "$PULUMI_SDK_MODULE" "v$PULUMI_VERSION")"
  install -m 0755 "$d/python/cmd/pulumi-language-python-exec" "$BIN/"
}

build_langhost() {
  local d host="$PULUMI_TREE/sdk/python/cmd/pulumi-language-python"
  d="$(moddir "$LANGHOST_MODULE" "$LANGHOST_VERSION")"   # first: fails fast if not served
  pulumi_tree
  # Its go.mod replaces pkg => ../../../../pkg and sdk => ../../..: nest it in the tree.
  copytree "$d" "$host"
  cd "$host"
  "$GO" build -p 2 -trimpath -ldflags "$PULUMI_LDFLAGS" -o "$BIN/pulumi-language-python" .
  install_exec_script
}

# The engine runs the program's dynamic resources (stacks/reload.py) with the plugin pulumi-resource-pulumi-python,
# a script the official CLI bundles beside itself: the same here, from the pinned sdk module, which matches the pip
# SDK that runs it. Copied on every run (a second is nothing), so a cache built before it gets it too.
install_dynamic_provider() {
  local d
  d="$(moddir "$PULUMI_SDK_MODULE" "v$PULUMI_VERSION")"
  install -m 0755 "$d/python/dist/pulumi-resource-pulumi-python" "$BIN/"
}

# Fallback: an sdk/v3 release that still had the host inside the sdk module.
build_langhost_fallback() {
  local d t="$SRC/sdk-$LANGHOST_FALLBACK_SDK_VERSION"
  d="$(moddir "$PULUMI_SDK_MODULE" "$LANGHOST_FALLBACK_SDK_VERSION")"; copytree "$d" "$t"
  patch_langhost_runplugin "$t/python/cmd/pulumi-language-python"
  cd "$t"   # its go.mod has a replace, so `go install M@V` would refuse it
  # Built beside the old binary and moved over it: a running engine keeps its copy.
  "$GO" build -p 2 -trimpath \
    -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$LANGHOST_FALLBACK_SDK_VERSION" \
    -o "$BIN/.pulumi-language-python.new" ./python/cmd/pulumi-language-python
  mv -f "$BIN/.pulumi-language-python.new" "$BIN/pulumi-language-python"
  install_exec_script
}

# patch_langhost_runplugin DIR: teach the v3.79 host's RunPlugin (how the CLI starts a Python
# policy pack) the request the v3.259 CLI sends: it names the plugin directory and its runtime
# options in RunPluginRequest.info (field 5, newer than this host's proto) and leaves `program`
# empty. Unpatched, the host ran `python ''` in the project directory: the Pulumi program itself
# started as the policy pack ("policy pack ... failed to start: could not read plugin ...: exit
# status 1"). The patch reads field 5 from the unknown fields and runs `python <plugin dir>`, in
# the `virtualenv` that PulumiPolicy.yaml names (relative to the pack) if it names one.
patch_langhost_runplugin() {
  local dir=$1
  cp "$here/langhost-patch/runplugin_info.go" "$dir/"
  # One call at the top of RunPlugin; the anchor must be there exactly once.
  python3 "$here/langhost-patch/add_runplugin_call.py" "$dir/main.go"
}

# gen_and_build DIR MODULE VERSION NAME [TAGS]: embed the versioned schema, then build
# the plugin with its version set (an empty version panics at start-up).
gen_and_build() {
  local dir=$1 module=$2 version=$3 name=$4 tags=${5:-}
  # main.go embeds the gitignored schema-embed.json that generate.go writes.
  (cd "$dir/cmd/pulumi-resource-$name" && VERSION="$version" "$GO" run generate.go)
  cd "$dir"
  CGO_ENABLED=0 "$GO" build -p 2 -trimpath ${tags:+-tags "$tags"} \
    -ldflags "-X $module/pkg/version.Version=$version" \
    -o "$PLUGINS/pulumi-resource-$name" "./cmd/pulumi-resource-$name"
  rm -f "$STAMPS/plugin-$name-$version"   # a new binary must be installed again
}

# upstream_tree DIR VERSION: writable copy of the upstream TF docker provider with the
# shim package that pulumi-docker's patches/ add, so the bridge can reach internal/provider.
upstream_tree() {
  local d t=$1
  d="$(moddir "$DOCKER_UPSTREAM_MODULE" "$2")"; copytree "$d" "$t"
  mkdir -p "$t/shim"
  cp "$here/docker-shim/shim.go" "$t/shim/"
}

build_docker() {
  local d t="$SRC/docker-$DOCKER_VERSION"
  d="$(moddir "$DOCKER_MODULE" "$DOCKER_MODULE_VERSION")"; copytree "$d" "$t/provider"
  # go.mod replaces the TF provider with ../upstream (a git submodule in the repo).
  upstream_tree "$t/upstream" "$DOCKER_UPSTREAM_VERSION"
  gen_and_build "$t/provider" "$DOCKER_MODULE" "$DOCKER_VERSION" docker no_compose
}

# Stand-in for the docker plugin: our docker-bridge/ module (bridge mapping with the
# tokens and names of the pip SDK) over the upstream and the patched SDK fork, laid out
# as its go.mod's replaces expect. No native docker.Image: the bridged resources only.
build_docker_bridge() {
  local d t="$SRC/docker-bridge-$DOCKER_VERSION" sdk schema
  upstream_tree "$t/upstream" "$DOCKER_BRIDGE_UPSTREAM_VERSION"
  d="$(moddir "$TF_SDK_FORK_MODULE" "$TF_SDK_FORK_VERSION")"; copytree "$d" "$t/plugin-sdk"
  cp "$here"/docker-bridge/sdkv2-patch/*.go "$t/plugin-sdk/helper/schema/"
  copytree "$here/docker-bridge" "$t/provider"
  cd "$t/provider"
  schema=cmd/pulumi-resource-docker/schema.json   # embedded by the plugin's main.go
  "$GO" build -p 2 -trimpath -tags no_compose -o "$t/docker-schemagen" ./cmd/docker-schemagen
  "$t/docker-schemagen" "$schema"
  # Every token and property the pip SDK can send must be in the schema.
  sdk="$(ls -d "$here"/../../.venv/lib/python3*/site-packages/pulumi_docker 2>/dev/null | head -n 1)"
  if [[ -n $sdk ]]; then python3 check_schema.py "$schema" "$sdk"; else echo "no pip SDK: schema not checked"; fi
  CGO_ENABLED=0 "$GO" build -p 2 -trimpath -tags no_compose \
    -ldflags "-X monitoring.local/docker-bridge.Version=$DOCKER_VERSION" \
    -o "$PLUGINS/pulumi-resource-docker" ./cmd/pulumi-resource-docker
  rm -f "$STAMPS/plugin-docker-$DOCKER_VERSION"   # a new binary must be installed again
}

# install_plugin NAME VERSION: copy the plugin into PULUMI_HOME under the exact version
# the pip SDK asks for, so the engine finds it without downloading.
install_plugin() {
  local name=$1 version=$2 t0=$SECONDS stamp="plugin-$1-$2"
  if [[ -e $STAMPS/$stamp && -d $PULUMI_HOME/plugins/resource-$name-v$version ]]; then
    say "install $name $version: cached (0s)"; return 0
  fi
  if ! pulumi plugin install resource "$name" "$version" --reinstall \
       --file "$PLUGINS/pulumi-resource-$name" >"$LOGS/$stamp.log" 2>&1; then
    say "install $name $version: FAILED (log: $LOGS/$stamp.log)"; return 1
  fi
  touch "$STAMPS/$stamp"; say "install $name $version: done in $((SECONDS - t0))s"
}

start=$SECONDS
failed=()

run_step "pulumi v$PULUMI_VERSION" "pulumi-v$PULUMI_VERSION" build_pulumi
(( last_rc == 0 )) || failed+=(pulumi)

run_step "pulumi-language-python $LANGHOST_VERSION" "langhost-$LANGHOST_VERSION" build_langhost
if (( last_rc == 0 )); then
  rm -f "$STAMPS"/langhost-fallback-*
elif [[ -n ${LANGHOST_FALLBACK_SDK_VERSION:-} ]]; then
  run_step "pulumi-language-python fallback (sdk $LANGHOST_FALLBACK_SDK_VERSION)" \
    "langhost-fallback-sdk-$LANGHOST_FALLBACK_SDK_VERSION-runplugin-info" build_langhost_fallback
  if (( last_rc == 0 )); then
    say "WARNING: language host from sdk $LANGHOST_FALLBACK_SDK_VERSION, not $LANGHOST_VERSION:" \
        "it ignores Pulumi.yaml runtime options (virtualenv), so activate the venv first"
  else
    failed+=(pulumi-language-python)
  fi
else
  failed+=(pulumi-language-python)
fi

install_dynamic_provider || failed+=(pulumi-resource-pulumi-python)

# The policy pack's own virtualenv, policy/.venv (named in policy/PulumiPolicy.yaml; the language
# host starts the pack with it): pulumi-policy pins protobuf below 5.30, the program's .venv pins
# protobuf 6, so they cannot share one. Reinstalled only when policy/requirements.txt changes.
policy_venv() {
  local root venv want t0=$SECONDS
  root="$(cd "$here/../.." && pwd)"; venv="$root/policy/.venv"
  want="$(sha256sum "$root/policy/requirements.txt" | cut -d' ' -f1)"
  if [[ "$(cat "$venv/.requirements.sha256" 2>/dev/null)" == "$want" ]]; then
    say "policy pack venv: cached (0s)"; return 0
  fi
  if { [[ -x $venv/bin/python ]] || python3 -m venv "$venv"; } >"$LOGS/policy-venv.log" 2>&1 &&
     "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$root/policy/requirements.txt" \
       >>"$LOGS/policy-venv.log" 2>&1; then
    echo "$want" >"$venv/.requirements.sha256"
    say "policy pack venv: installed in $((SECONDS - t0))s"
  else
    say "policy pack venv: FAILED after $((SECONDS - t0))s (log: $LOGS/policy-venv.log)"
    tail -n 5 "$LOGS/policy-venv.log" | sed 's/^/    /'
    failed+=(policy-venv)
  fi
}
policy_venv

if $cli_only; then
  say "total: $((SECONDS - start))s (CLI only)"
  (( ${#failed[@]} == 0 )) || { say "incomplete, failed: ${failed[*]}"; exit 1; }
  exit 0
fi

run_step "pulumi-resource-docker $DOCKER_VERSION" "docker-$DOCKER_VERSION" build_docker
if (( last_rc == 0 )); then
  rm -f "$STAMPS"/docker-bridge-*
elif [[ -n ${DOCKER_BRIDGE_UPSTREAM_VERSION:-} ]]; then
  run_step "pulumi-resource-docker $DOCKER_VERSION stand-in (bridge over upstream $DOCKER_BRIDGE_UPSTREAM_VERSION)" \
    "docker-bridge-$DOCKER_VERSION" build_docker_bridge
  if (( last_rc == 0 )); then
    say "WARNING: docker plugin is the stand-in from docker-bridge/, not pulumi-docker $DOCKER_VERSION:" \
        "bridged resources only (no docker.Image)"
  else
    failed+=(docker)
  fi
else
  failed+=(docker)
fi
# Plugins go into PULUMI_HOME last: this needs the CLI and the built binaries.
install_if_built() {
  [[ -x $BIN/pulumi && -x $PLUGINS/pulumi-resource-$1 ]] || return 0
  install_plugin "$1" "$2" || failed+=("install-$1")
}
install_if_built docker "$DOCKER_VERSION"

say "total: $((SECONDS - start))s"
if (( ${#failed[@]} )); then
  say "incomplete, failed: ${failed[*]}"
  exit 1
fi
