#!/usr/bin/env bash
# Build the five service images locally (no container registry is reachable here): each
# server is compiled from its upstream Go module at the version in versions.env, then packed
# with busybox-static into a minimal root filesystem and `docker import`ed under the upstream
# tag the program references. Idempotent: a binary is skipped when its versioned directory
# holds it; an image is skipped when its tag exists and its stamp matches (tag + hash of this
# script and versions.env). Build logs: ~/.cache/monitoring-images/logs/.
# Usage: scripts/images/build.sh [prometheus|alertmanager|loki|promtail|grafana ...]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"

CACHE="${MONITORING_IMAGES_CACHE:-$HOME/.cache/monitoring-images}"
SRC="$CACHE/src" BIN="$CACHE/bin" LOGS="$CACHE/logs" STAMPS="$CACHE/stamps" ROOTFS="$CACHE/rootfs"
mkdir -p "$SRC" "$BIN" "$LOGS" "$STAMPS" "$ROOTFS"
GO="${GO:-/usr/local/go/bin/go}"
export GOMODCACHE="$CACHE/go/mod" GOCACHE="$CACHE/go/build"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOWORK=off
# No .git in the copies; a writable mod cache can be cleaned with rm.
export GOFLAGS="-buildvcs=false -modcacherw"
# Pseudo-versions of untagged submodules may be unknown to the checksum database.
export GONOSUMDB="github.com/grafana/grafana,github.com/grafana/loki/pkg/push"
GOPAR="${GOPAR:-2}"   # go build -p; GOPAR=1 halves peak memory for the Grafana link
recipe="$(cat "$0" "$here/versions.env" | sha256sum | cut -c1-16)"

say() { printf '[images] %s\n' "$*"; }

"$here/../docker/start.sh"
if ! command -v busybox >/dev/null; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$BUSYBOX_DEB" >/dev/null
fi

# moddir MODULE VERSION: download once (from a directory without go.mod), print its directory.
moddir() {
  (cd "$CACHE" && "$GO" mod download -json "$1@$2") | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p'
}
# fresh_copy MODULE VERSION DEST: a writable copy of the module tree (the cache is read-only).
fresh_copy() {
  local dir; dir="$(moddir "$1" "$2")"
  [[ -n $dir ]] || { say "cannot download $1@$2"; return 1; }
  rm -rf "$3"; mkdir -p "$(dirname "$3")"; cp -a "$dir" "$3"; chmod -R u+w "$3"
}
# gobuild LOGNAME DIR ARGS...: go build in DIR, output to a log, timed on stdout.
gobuild() {
  local name="$1" dir="$2" t0=$SECONDS; shift 2
  say "go build $name (log: $LOGS/$name.log)"
  if ! (cd "$dir" && "$GO" build -p "$GOPAR" -trimpath "$@") >"$LOGS/$name.log" 2>&1; then
    tail -30 "$LOGS/$name.log" >&2; say "FAILED: $name"; return 1
  fi
  say "built $name in $((SECONDS - t0))s"
}
# need_image TAG: true when TAG must be (re)built.
need_image() {
  local stamp; stamp="$STAMPS/$(tr '/:' '__' <<<"$1")"
  if docker image inspect "$1" >/dev/null 2>&1 && [[ "$(cat "$stamp" 2>/dev/null)" == "$1 $recipe" ]]; then
    say "$1: present"; return 1
  fi
}
# new_root NAME: an empty root filesystem with busybox (sh, wget, ...), users, /tmp and CA certs.
new_root() {
  local r="$ROOTFS/$1"
  rm -rf "$r"; mkdir -p "$r"/{bin,etc/ssl/certs,tmp,root}; chmod 1777 "$r/tmp"
  cp "$(command -v busybox)" "$r/bin/busybox"
  # One link per applet, made relative so they resolve inside the image.
  "$r/bin/busybox" --install -s "$r/bin" 2>/dev/null || true
  for f in "$r"/bin/*; do [[ $f == */busybox ]] || ln -sf busybox "$f"; done
  cp /etc/ssl/certs/ca-certificates.crt "$r/etc/ssl/certs/"
  printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' \
    'loki:x:10001:10001:loki:/loki:/bin/false' 'grafana:x:472:0:grafana:/usr/share/grafana:/bin/false' >"$r/etc/passwd"
  printf '%s\n' 'root:x:0:' 'nobody:x:65534:' 'loki:x:10001:' >"$r/etc/group"
  echo "$r"
}
# import_root NAME TAG CHANGES...: pack the root filesystem (numeric owners kept) as image TAG.
import_root() {
  local name="$1" tag="$2" args=(-c 'ENV PATH=/usr/local/bin:/usr/bin:/bin'); shift 2
  for c in "$@"; do args+=(-c "$c"); done
  local old; old="$(docker image inspect -f '{{.Id}}' "$tag" 2>/dev/null || true)"
  tar --numeric-owner -C "$ROOTFS/$name" -c . | docker import "${args[@]}" - "$tag" >/dev/null
  # The replaced image would stay behind untagged: drop it unless a container still uses it.
  [[ -z $old ]] || docker rmi "$old" >/dev/null 2>&1 || true
  rm -rf "${ROOTFS:?}/$name"
  echo "$tag $recipe" >"$STAMPS/$(tr '/:' '__' <<<"$tag")"
  say "$tag: imported ($(docker image inspect -f '{{.Size}}' "$tag" | numfmt --to=iec))"
}

build_prometheus() {
  local out="$BIN/prometheus-$PROMETHEUS_VERSION" src="$SRC/prometheus-$PROMETHEUS_VERSION"
  if [[ ! -x $out/prometheus || ! -x $out/promtool ]]; then
    # go.mod has a replace and excludes, so `go install M@V` refuses it: build from a copy.
    # Without -tags builtinassets the web UI is absent; the API and /-/ready work.
    fresh_copy "$PROMETHEUS_MODULE" "$PROMETHEUS_MODULE_VERSION" "$src"
    local v=github.com/prometheus/common/version
    local ld="-s -w -X $v.Version=$PROMETHEUS_VERSION -X $v.Branch=HEAD -X $v.BuildUser=monitoring-images"
    gobuild prometheus "$src" -tags netgo -ldflags "$ld" -o "$out/" ./cmd/prometheus ./cmd/promtool
    rm -rf "$src"
  fi
  need_image "$PROMETHEUS_TAG" || return 0
  local r; r="$(new_root prometheus)"
  cp "$out/prometheus" "$out/promtool" "$r/bin/"
  mkdir -p "$r/etc/prometheus" "$r/prometheus"
  cp "$(moddir "$PROMETHEUS_MODULE" "$PROMETHEUS_MODULE_VERSION")/documentation/examples/prometheus.yml" "$r/etc/prometheus/"
  chown -R 65534:65534 "$r/etc/prometheus" "$r/prometheus"; chmod -R u+w,g+w "$r/etc/prometheus" "$r/prometheus"
  import_root prometheus "$PROMETHEUS_TAG" 'USER nobody' 'WORKDIR /prometheus' 'EXPOSE 9090' \
    'ENTRYPOINT ["/bin/prometheus"]' \
    'CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]'
}

build_alertmanager() {
  local out="$BIN/alertmanager-$ALERTMANAGER_VERSION" src="$SRC/alertmanager-$ALERTMANAGER_VERSION"
  if [[ ! -x $out/alertmanager || ! -x $out/amtool ]]; then
    fresh_copy "$ALERTMANAGER_MODULE" "$ALERTMANAGER_MODULE_VERSION" "$src"
    local v=github.com/prometheus/common/version
    local ld="-s -w -X $v.Version=$ALERTMANAGER_VERSION -X $v.Branch=HEAD -X $v.BuildUser=monitoring-images"
    gobuild alertmanager "$src" -tags netgo -ldflags "$ld" -o "$out/" ./cmd/alertmanager ./cmd/amtool
    rm -rf "$src"
  fi
  need_image "$ALERTMANAGER_TAG" || return 0
  local r; r="$(new_root alertmanager)"
  cp "$out/alertmanager" "$out/amtool" "$r/bin/"
  mkdir -p "$r/etc/alertmanager" "$r/alertmanager"
  cp "$(moddir "$ALERTMANAGER_MODULE" "$ALERTMANAGER_MODULE_VERSION")/examples/ha/alertmanager.yml" "$r/etc/alertmanager/"
  chown -R 65534:65534 "$r/etc/alertmanager" "$r/alertmanager"; chmod -R u+w,g+w "$r/etc/alertmanager" "$r/alertmanager"
  import_root alertmanager "$ALERTMANAGER_TAG" 'USER nobody' 'WORKDIR /alertmanager' 'EXPOSE 9093' \
    'ENTRYPOINT ["/bin/alertmanager"]' \
    'CMD ["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager"]'
}

# loki_tree VERSION DEST: the module at VERSION with ./pkg/push restored where go.mod's replace
# expects it, from the pkg/push version go.mod requires (the release commit's own pseudo-version
# is not known here; the package compiles against it).
loki_tree() {
  fresh_copy "$LOKI_MODULE" "v$1" "$2"
  local push_ver; push_ver="$(awk -v m="$LOKI_PUSH_MODULE" '$1 == m && $2 ~ /^v/ {print $2; exit}' "$2/go.mod")"
  rm -rf "$2/pkg/push"; fresh_copy "$LOKI_PUSH_MODULE" "$push_ver" "$2/pkg/push"
}
loki_ldflags() {
  local b=github.com/grafana/loki/v3/pkg/util/build
  echo "-s -w -X $b.Version=$1 -X $b.Branch=release -X $b.BuildUser=monitoring-images"
}

build_loki() {
  local out="$BIN/loki-$LOKI_VERSION" src="$SRC/loki-$LOKI_VERSION"
  if [[ ! -x $out/loki ]]; then
    loki_tree "$LOKI_VERSION" "$src"
    # The zip keeps vendor/modules.txt but not vendor/: resolve from the module cache.
    gobuild loki "$src" -mod=mod -tags netgo -ldflags "$(loki_ldflags "$LOKI_VERSION")" -o "$out/loki" ./cmd/loki
    rm -rf "$src"
  fi
  need_image "$LOKI_TAG" || return 0
  local r; r="$(new_root loki)"
  mkdir -p "$r/usr/bin" "$r/etc/loki" "$r/loki/rules" "$r/loki/rules-temp"
  cp "$out/loki" "$r/usr/bin/"
  cp "$(moddir "$LOKI_MODULE" "v$LOKI_VERSION")/cmd/loki/loki-docker-config.yaml" "$r/etc/loki/local-config.yaml"
  chown -R 10001:10001 "$r/etc/loki" "$r/loki"; chmod -R u+w "$r/etc/loki" "$r/loki"
  import_root loki "$LOKI_TAG" 'USER 10001' 'WORKDIR /' 'EXPOSE 3100' \
    'ENTRYPOINT ["/usr/bin/loki"]' 'CMD ["-config.file=/etc/loki/local-config.yaml"]'
}

build_promtail() {
  local out="$BIN/promtail-$PROMTAIL_VERSION" src="$SRC/promtail-$PROMTAIL_VERSION"
  if [[ ! -x $out/promtail ]]; then
    loki_tree "$PROMTAIL_VERSION" "$src"
    # No cgo, so no journal target (upstream adds -tags promtail_journal_enabled with libsystemd).
    gobuild promtail "$src" -mod=mod -tags netgo -ldflags "$(loki_ldflags "$PROMTAIL_VERSION")" \
      -o "$out/promtail" ./clients/cmd/promtail
    rm -rf "$src"
  fi
  need_image "$PROMTAIL_TAG" || return 0
  local r; r="$(new_root promtail)"
  mkdir -p "$r/usr/bin" "$r/etc/promtail" "$r/var/lib/promtail"
  cp "$out/promtail" "$r/usr/bin/"
  cp "$(moddir "$LOKI_MODULE" "v$PROMTAIL_VERSION")/clients/cmd/promtail/promtail-docker-config.yaml" "$r/etc/promtail/config.yml"
  chmod -R u+w "$r/etc/promtail"
  # Runs as root like upstream: it reads the Docker socket and host log files.
  import_root promtail "$PROMTAIL_TAG" 'WORKDIR /' 'EXPOSE 9080' \
    'ENTRYPOINT ["/usr/bin/promtail"]' 'CMD ["-config.file=/etc/promtail/config.yml"]'
}

build_grafana() {
  local out="$BIN/grafana-$GRAFANA_VERSION-${GRAFANA_COMMIT:0:12}" src="$SRC/grafana-$GRAFANA_VERSION"
  if [[ ! -x $out/bin/grafana ]]; then
    fresh_copy "$GRAFANA_MODULE" "$GRAFANA_MODULE_VERSION" "$src"
    # This version does not commit pkg/server/wire_gen.go: generate it like `make gen-go` does.
    # wire type-checks the whole server graph, so it costs a compile (shared with the build).
    [[ -x $BIN/wire-$WIRE_VERSION/wire ]] ||
      GOBIN="$BIN/wire-$WIRE_VERSION" CGO_ENABLED=0 "$GO" install "github.com/google/wire/cmd/wire@$WIRE_VERSION"
    # sqlite here is mattn/go-sqlite3, which needs cgo; the image carries the libraries ldd lists.
    # wire and the build share flags, cgo and tags, so the build reuses wire's compiled packages.
    local -x CGO_ENABLED=1 GOFLAGS="$GOFLAGS -mod=mod -trimpath"
    say "wire gen grafana (log: $LOGS/grafana-wire.log)"
    (cd "$src" && "$BIN/wire-$WIRE_VERSION/wire" gen -tags "oss netgo osusergo" ./pkg/server) \
      >"$LOGS/grafana-wire.log" 2>&1 || { tail -30 "$LOGS/grafana-wire.log" >&2; return 1; }
    local ld="-w -X main.version=$GRAFANA_VERSION -X main.commit=$GRAFANA_COMMIT -X main.buildBranch=HEAD"
    local t; t="$(sed -E 's/.*-0\.([0-9]{14})-.*/\1/' <<<"$GRAFANA_MODULE_VERSION")"   # commit time
    ld+=" -X main.buildstamp=$(date -u -d "${t:0:8} ${t:8:2}:${t:10:2}:${t:12:2}" +%s)"
    gobuild grafana "$src" -tags oss,netgo,osusergo -ldflags "$ld" -o "$out/bin/grafana" ./pkg/cmd/grafana
    # Home directory: conf/ and public/ from the module tree (no built web UI: the API works);
    # TypeScript and styles are sources of that UI, not read by the server.
    cp -a "$src/conf" "$out/"
    tar -C "$src" --exclude='*.ts' --exclude='*.tsx' --exclude='*.scss' -c public | tar -C "$out" -x
    rm -rf "$src"
  fi
  need_image "$GRAFANA_TAG" || return 0
  local r h; r="$(new_root grafana)"; h="$r/usr/share/grafana"
  mkdir -p "$h" "$r/etc/grafana/provisioning"/{dashboards,datasources,notifiers,plugins,alerting} \
    "$r/var/lib/grafana/plugins" "$r/var/log/grafana"
  cp -a "$out/bin" "$out/conf" "$out/public" "$h/"
  cp "$out/conf/sample.ini" "$r/etc/grafana/grafana.ini"
  # The shared libraries the cgo binary links (libc, loader).
  ldd "$out/bin/grafana" | grep -o '/[^ ]*' | while read -r lib; do cp -L --parents "$lib" "$r/"; done
  # Like upstream's run.sh: paths from GF_PATHS_*, logs to the console.
  cat >"$r/run.sh" <<'EOF'
#!/bin/sh
exec grafana server --homepath="$GF_PATHS_HOME" --config="$GF_PATHS_CONFIG" --packaging=docker "$@" \
  cfg:default.log.mode=console cfg:default.paths.data="$GF_PATHS_DATA" cfg:default.paths.logs="$GF_PATHS_LOGS" \
  cfg:default.paths.plugins="$GF_PATHS_PLUGINS" cfg:default.paths.provisioning="$GF_PATHS_PROVISIONING"
EOF
  chmod 755 "$r/run.sh"
  chown -R 472:0 "$r/var/lib/grafana" "$r/var/log/grafana" "$r/etc/grafana"
  chmod -R g+w "$r/var/lib/grafana" "$r/var/log/grafana"
  # No network here: no update checks or usage reports by default (env overrides stay possible).
  import_root grafana "$GRAFANA_TAG" 'USER 472' 'WORKDIR /usr/share/grafana' 'EXPOSE 3000' \
    'ENV PATH=/usr/share/grafana/bin:/bin' 'ENV GF_PATHS_HOME=/usr/share/grafana' \
    'ENV GF_PATHS_CONFIG=/etc/grafana/grafana.ini' 'ENV GF_PATHS_DATA=/var/lib/grafana' \
    'ENV GF_PATHS_LOGS=/var/log/grafana' 'ENV GF_PATHS_PLUGINS=/var/lib/grafana/plugins' \
    'ENV GF_PATHS_PROVISIONING=/etc/grafana/provisioning' 'ENV GF_ANALYTICS_REPORTING_ENABLED=false' \
    'ENV GF_ANALYTICS_CHECK_FOR_UPDATES=false' 'ENV GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES=false' \
    'ENTRYPOINT ["/run.sh"]'
}

for svc in ${@:-prometheus alertmanager loki promtail grafana}; do
  t0=$SECONDS
  "build_$svc"
  say "$svc done in $((SECONDS - t0))s"
done
