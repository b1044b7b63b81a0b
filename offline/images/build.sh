#!/usr/bin/env bash
# Build the Prometheus and Alertmanager images, the node-exporter and cAdvisor agents' images, and the
# VictoriaMetrics test receiver's image, locally, for machines that reach no container registry: each is
# compiled from its upstream Go modules (Apache-2.0) at the release stacks/versions.py pins, packed with our
# wget (offline/images/wget: the healthchecks' one command; busybox is GPL) into a minimal root filesystem and
# `docker import`ed under its LOCAL name (monitoring.local/<name>:<tag>), never the upstream one: a local
# build must not shadow the real image on a machine that later reaches a registry. Stacks select these
# through their `images` config.
# Grafana, Loki and Promtail are AGPL and are never built here (docs/building-without-registries.md, "Never built or downloaded").
# cAdvisor's own main (module github.com/google/cadvisor/cmd) is not on the Go module proxy: its image is
# built from this project's main (local_builds.py LOCAL_BUILDS["cadvisor"].main) over the release's served modules.
# VictoriaMetrics single-node (Apache-2.0; local_builds.py TEST_RECEIVERS) is a receiver of the tests'
# Prometheus remote write: no stack deploys it, so it has no upstream pin, only this build.
# Idempotent: a binary is skipped when its versioned directory holds it; an image is skipped when its tag
# exists and its stamp matches (tag + hash of this script, local_builds.py and wget's source, and of the main's
# source; the tag carries the release).
# Build logs: ~/.cache/monitoring-images/logs/.
# Usage: offline/images/build.sh [prometheus|alertmanager|node-exporter|cadvisor|victoria-metrics ...]
# (default: all five)
#        offline/images/build.sh --binaries [prometheus|alertmanager ...]
# (the servers and their promtool/amtool only, into ~/.cache/monitoring-images/bin, with no Docker: what the
# tools and live test tiers run, as the pull-request workflow builds them)
set -euo pipefail

binaries_only=""
if [[ ${1:-} == --binaries ]]; then binaries_only=1; shift; fi

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# The recipes, at the releases stacks/versions.py pins: local_builds.py (PROMETHEUS_TAG=...,
# PROMETHEUS_MODULE_VERSION=..., ...).
eval "$(cd "$root" && python3 -m offline.images.local_builds)"

CACHE="${MONITORING_IMAGES_CACHE:-$HOME/.cache/monitoring-images}"
SRC="$CACHE/src" BIN="$CACHE/bin" LOGS="$CACHE/logs" STAMPS="$CACHE/stamps" ROOTFS="$CACHE/rootfs"
mkdir -p "$SRC" "$BIN" "$LOGS" "$STAMPS" "$ROOTFS"
GO="${GO:-$(command -v go || echo /usr/local/go/bin/go)}"
export GOMODCACHE="$CACHE/go/mod" GOCACHE="$CACHE/go/build"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOWORK=off
# No .git in the copies; a writable mod cache can be cleaned with rm.
export GOFLAGS="-buildvcs=false -modcacherw"
GOPAR="${GOPAR:-2}"   # go build -p
recipe="$(cat "$0" "$here/local_builds.py" "$here"/wget/*.go | sha256sum | cut -c1-16)"

# shellcheck disable=SC2034  # read by say, in lib.sh
SAY_PREFIX=images
# shellcheck source=../lib.sh
source "$here/../lib.sh"   # say, moddir, copytree

if [[ -z $binaries_only ]]; then
  "$here/../docker/start.sh"
  # The healthchecks' wget, rebuilt when its source changes (the image stamps hash the source too).
  WGET="$BIN/wget-$(cat "$here"/wget/*.go "$here/wget/go.mod" | sha256sum | cut -c1-12)/wget"
  if [[ ! -x $WGET ]]; then
    (cd "$here/wget" && "$GO" build -trimpath -ldflags "-s -w" -o "$WGET" .)
  fi
fi

# need_image TAG [RECIPE]: true when TAG must be (re)built (RECIPE: what its stamp must say; $recipe).
need_image() {
  local stamp; stamp="$STAMPS/$(tr '/:' '__' <<<"$1")"
  if docker image inspect "$1" >/dev/null 2>&1 && [[ "$(cat "$stamp" 2>/dev/null)" == "$1 ${2:-$recipe}" ]]; then
    say "$1: present"; return 1
  fi
}

# import_rootfs DIR TAG RECIPE DOCKER_IMPORT_CHANGES...: `docker import` DIR as TAG, drop the image it
# replaces, stamp it.
import_rootfs() {
  local r=$1 tag=$2 stamp=$3; shift 3
  local old; old="$(docker image inspect -f '{{.Id}}' "$tag" 2>/dev/null || true)"
  tar --numeric-owner -C "$r" -c . | docker import "$@" - "$tag" >/dev/null
  # The replaced image would stay behind untagged: drop it unless a container still uses it.
  [[ -z $old || $old == "$(docker image inspect -f '{{.Id}}' "$tag")" ]] || docker rmi "$old" >/dev/null 2>&1 || true
  rm -rf "$r"
  echo "$tag $stamp" >"$STAMPS/$(tr '/:' '__' <<<"$tag")"
  say "$tag: imported ($(docker image inspect -f '{{.Size}}' "$tag" | numfmt --to=iec))"
}

# base_rootfs DIR: the files every local image has: our wget, the CA certificates, root and nobody.
base_rootfs() {
  local r=$1
  rm -rf "$r"; mkdir -p "$r"/{bin,etc/ssl/certs,tmp,root}; chmod 1777 "$r/tmp"
  cp "$WGET" "$r/bin/wget"
  cp /etc/ssl/certs/ca-certificates.crt "$r/etc/ssl/certs/"
  printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$r/etc/passwd"
  printf '%s\n' 'root:x:0:' 'nobody:x:65534:' >"$r/etc/group"
}

# go_build NAME VERSION DIR TAGS LDFLAGS OUTPUT PACKAGE...: `go build` in DIR, logged to $LOGS/NAME.log, timed;
# on failure the log's tail, and a non-zero return.
go_build() {
  local name=$1 version=$2 dir=$3 tags=$4 ld=$5 output=$6 t0=$SECONDS
  shift 6
  say "go build $name $version (log: $LOGS/$name.log)"
  if ! (cd "$dir" && "$GO" build -p "$GOPAR" -trimpath -tags "$tags" -ldflags "$ld" -o "$output" "$@") \
      >"$LOGS/$name.log" 2>&1; then
    tail -30 "$LOGS/$name.log" >&2; say "FAILED: $name"; return 1
  fi
  say "built $name in $((SECONDS - t0))s"
}

# build_server NAME MODULE MODULE_VERSION VERSION DATA_DIR CONFIG_PATH PORT
# Compiles ./cmd/NAME and its command-line tool (promtool, amtool) from a copy of the module (their go.mod
# files have replace/exclude lines, so `go install M@V` refuses them), then imports an image that runs as
# nobody with an owned data directory and the example config upstream ships.
build_server() {
  local name=$1 module=$2 module_version=$3 version=$4 data=$5 config=$6 port=$7 tag=$8 tool
  case $name in prometheus) tool=promtool ;; alertmanager) tool=amtool ;; esac
  local out="$BIN/$name-$version" src="$SRC/$name-$version"
  if [[ ! -x $out/$name || ! -x $out/$tool ]]; then
    local dir; dir="$(moddir "$module" "$module_version")"
    copytree "$dir" "$src"
    # The web UIs are built by npm/elm from sources the module ships, not compiled in here: Prometheus
    # without -tags builtinassets and an Alertmanager with a placeholder page serve their APIs, which is
    # all the stack and its tests use. Alertmanager embeds ui/app/dist (gitignored upstream), so it needs one.
    if grep -q '^//go:embed app/dist' "$src/ui/web.go" 2>/dev/null; then
      mkdir -p "$src/ui/app/dist"
      echo '<!doctype html><title>Alertmanager</title><p>Web UI not built into this local image; the API is at /api/v2/.' \
        >"$src/ui/app/dist/index.html"
    fi
    local v=github.com/prometheus/common/version
    local ld="-s -w -X $v.Version=$version -X $v.Branch=HEAD -X $v.BuildUser=monitoring-images"
    go_build "$name" "$version" "$src" netgo "$ld" "$out/" "./cmd/$name" "./cmd/$tool" || return 1
    rm -rf "$src"
  fi
  [[ -z $binaries_only ]] || return 0
  need_image "$tag" || return 0
  local r="$ROOTFS/$name"
  base_rootfs "$r"
  mkdir -p "$r$data" "$r$(dirname "$config")"
  cp "$out/$name" "$out/$tool" "$r/bin/"
  case $name in
    prometheus) cp "$(moddir "$module" "$module_version")/documentation/examples/prometheus.yml" "$r$config" ;;
    alertmanager) cp "$(moddir "$module" "$module_version")/examples/ha/alertmanager.yml" "$r$config" ;;
  esac
  chown -R 65534:65534 "$r$data" "$r$(dirname "$config")"; chmod -R u+w,g+w "$r$data" "$r$(dirname "$config")"
  import_rootfs "$r" "$tag" "$recipe" -c 'ENV PATH=/bin' -c 'USER nobody' -c "WORKDIR $data" \
    -c "EXPOSE $port" -c "ENTRYPOINT [\"/bin/$name\"]" \
    -c "CMD [\"--config.file=$config\", \"--storage$([[ $name == prometheus ]] && echo .tsdb).path=$data\"]"
}

# build_agent NAME MODULE MODULE_VERSION VERSION PORT TAG MAIN
# Compiles an agent that runs on every Docker host into /bin/<upstream binary name>: node-exporter from its
# module's root package; cAdvisor from MAIN, this project's main module, whose go.mod must require MODULE
# and its submodules (github.com/google/cadvisor/lib) at MODULE_VERSION. The image has no config and no
# CMD: the entrypoint is the binary, which reads the host's /proc, /sys, root filesystem (and, cAdvisor,
# the Docker socket) through the mounts a stack gives it. Each runs as upstream's image does: cAdvisor as
# root (it opens the Docker socket and every cgroup), node-exporter as nobody (its Dockerfile's USER; the
# host's world-readable /proc and /sys are all it reads, and it warns when run as root).
build_agent() {
  local name=$1 module=$2 module_version=$3 version=$4 port=$5 tag=$6 main=$7 bin ld user stamp=$recipe
  local out="$BIN/$name-$version" src="$SRC/$name-$version"
  case $name in
    node-exporter) bin=node_exporter user=nobody
      local v=github.com/prometheus/common/version
      ld="-X $v.Version=$version -X $v.Branch=HEAD -X $v.BuildUser=monitoring-images" ;;
    cadvisor) bin=cadvisor user=root
      ld="-X $module/lib/version.Version=v$version -X $module/lib/version.BuildUser=monitoring-images" ;;
  esac
  if [[ -n $main ]]; then
    if [[ ! -f $root/$main/go.mod ]]; then
      say "FAILED: $name: its main module $main is missing ($module/cmd, upstream's, is not on the Go module proxy)"
      return 1
    fi
    local hash; hash="$(cat "$root/$main"/go.mod "$root/$main"/go.sum "$root/$main"/*.go | sha256sum | cut -c1-12)"
    out="$out-$hash" stamp="$recipe $hash"
  fi
  if [[ ! -x $out/$bin ]]; then
    if [[ -n $main ]]; then
      copytree "$root/$main" "$src"
      local pinned
      pinned="$(cd "$src" && "$GO" list -m -f '{{.Path}} {{.Version}}' all | awk -v m="$module" '$1 == m || index($1, m "/") == 1 {print $2}' | sort -u)"
      if [[ $pinned != "$module_version" ]]; then
        say "FAILED: $main/go.mod builds $module at ${pinned//$'\n'/ and }; local_builds.py pins $module_version"
        return 1
      fi
    else
      copytree "$(moddir "$module" "$module_version")" "$src"
    fi
    go_build "$name" "$version" "$src" netgo "-s -w $ld" "$out/$bin" . || return 1
    rm -rf "$src"
  fi
  need_image "$tag" "$stamp" || return 0
  local r="$ROOTFS/$name"
  base_rootfs "$r"
  cp "$out/$bin" "$r/bin/"
  import_rootfs "$r" "$tag" "$stamp" -c 'ENV PATH=/bin' -c "USER $user" -c "EXPOSE $port" \
    -c "ENTRYPOINT [\"/bin/$bin\"]"
}

# build_receiver NAME MODULE MODULE_VERSION VERSION PORT TAG DATA_DIR
# Compiles a test receiver from a copy of its module: VictoriaMetrics single-node from ./app/NAME, as its
# Makefile's pure build does (victoria-metrics-pure-prod: CGO_ENABLED=0, which picks its pure-Go zstd, with
# -trimpath -tags 'netgo osusergo'), its version in lib/buildinfo.Version as the Makefile writes it,
# NAME-DATEINFO-BUILDINFO: the tag's time from the Go module proxy and tags-vVERSION (what `git describe --long
# --all` starts with at the tag; the copy has no .git), so a rebuild makes the same binary. The image runs it as
# nobody (upstream's runs as root) with DATA_DIR, owned by nobody, as -storageDataPath; arguments given to
# `docker run` replace that CMD, and the flag's default, the relative victoria-metrics-data from the working
# directory /, is DATA_DIR again.
build_receiver() {
  local name=$1 module=$2 module_version=$3 version=$4 port=$5 tag=$6 data=$7
  local out="$BIN/$name-$version" src="$SRC/$name-$version"
  if [[ ! -x $out/$name ]]; then
    local dir date
    dir="$(moddir "$module" "$module_version")"
    date="$(cd "$GOMODCACHE" && "$GO" list -m -f '{{.Time.UTC.Format "20060102-150405"}}' "$module@$module_version")"
    copytree "$dir" "$src"
    local ld="-s -w -X $module/lib/buildinfo.Version=$name-$date-tags-v$version"
    go_build "$name" "$version" "$src" 'netgo osusergo' "$ld" "$out/$name" "./app/$name" || return 1
    rm -rf "$src"
  fi
  need_image "$tag" || return 0
  local r="$ROOTFS/$name"
  base_rootfs "$r"
  mkdir -p "$r$data"
  cp "$out/$name" "$r/bin/"
  chown -R 65534:65534 "$r$data"; chmod -R u+w,g+w "$r$data"
  import_rootfs "$r" "$tag" "$recipe" -c 'ENV PATH=/bin' -c 'USER nobody' -c 'WORKDIR /' -c "EXPOSE $port" \
    -c "ENTRYPOINT [\"/bin/$name\"]" -c "CMD [\"-storageDataPath=$data\"]"
}

services=("$@")
if [[ -n $binaries_only ]]; then
  [ ${#services[@]} -gt 0 ] || services=(prometheus alertmanager)
  for svc in "${services[@]}"; do
    [[ $svc == prometheus || $svc == alertmanager ]] || { echo "usage: $0 --binaries [prometheus|alertmanager ...]" >&2; exit 2; }
  done
fi
[ ${#services[@]} -gt 0 ] || services=(prometheus alertmanager node-exporter cadvisor victoria-metrics)
for svc in "${services[@]}"; do
  t0=$SECONDS
  case $svc in
    prometheus) build_server prometheus "$PROMETHEUS_MODULE" "$PROMETHEUS_MODULE_VERSION" "$PROMETHEUS_VERSION" \
      /prometheus /etc/prometheus/prometheus.yml 9090 "$PROMETHEUS_TAG" ;;
    alertmanager) build_server alertmanager "$ALERTMANAGER_MODULE" "$ALERTMANAGER_MODULE_VERSION" "$ALERTMANAGER_VERSION" \
      /alertmanager /etc/alertmanager/alertmanager.yml 9093 "$ALERTMANAGER_TAG" ;;
    node-exporter) build_agent node-exporter "$NODE_EXPORTER_MODULE" "$NODE_EXPORTER_MODULE_VERSION" \
      "$NODE_EXPORTER_VERSION" 9100 "$NODE_EXPORTER_TAG" "$NODE_EXPORTER_MAIN" ;;
    cadvisor) build_agent cadvisor "$CADVISOR_MODULE" "$CADVISOR_MODULE_VERSION" "$CADVISOR_VERSION" 8080 \
      "$CADVISOR_TAG" "$CADVISOR_MAIN" ;;
    victoria-metrics) build_receiver victoria-metrics "$VICTORIA_METRICS_MODULE" "$VICTORIA_METRICS_MODULE_VERSION" \
      "$VICTORIA_METRICS_VERSION" 8428 "$VICTORIA_METRICS_TAG" /victoria-metrics-data ;;
    *) echo "usage: $0 [prometheus|alertmanager|node-exporter|cadvisor|victoria-metrics ...]" \
        "(Grafana, Loki and Promtail are AGPL: never built here)" >&2
      exit 2 ;;
  esac
  say "$svc done in $((SECONDS - t0))s"
done
