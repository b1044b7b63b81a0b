#!/usr/bin/env bash
# Build the Kubernetes tier's parts from Go modules into ~/.cache/monitoring-kubernetes (MONITORING_K8S_CACHE):
# the pulumi-kubernetes provider plugin (installed into the toolchain's PULUMI_HOME), etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kwok (simulated nodes) and the Prometheus Operator, and the operator's
# CRDs from its module. Versions:
# offline/kubernetes/versions.env. A piece whose stamp (named with its version) exists is skipped; build
# output goes to logs/ under the cache, stdout gets one timed line per piece. No image is built or pulled:
# everything runs as a local process (offline/kubernetes/cluster.sh).
# Usage: offline/kubernetes/build.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"

CACHE="${MONITORING_K8S_CACHE:-$HOME/.cache/monitoring-kubernetes}"
BIN="$CACHE/bin" SRC="$CACHE/src" LOGS="$CACHE/logs" STAMPS="$CACHE/stamps" CRDS="$CACHE/crds"
mkdir -p "$BIN" "$SRC" "$LOGS" "$STAMPS" "$CRDS"
GO="${GO:-/usr/local/go/bin/go}"
export GOMODCACHE="$CACHE/go/mod" GOCACHE="$CACHE/go/build"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOWORK=off
export GOFLAGS="-buildvcs=false -mod=mod -modcacherw"
# Untagged pseudo-versions may be unknown to the checksum database.
export GONOSUMDB="$KUBERNETES_PROVIDER_MODULE"

# shellcheck disable=SC2034  # read by say, in lib.sh
SAY_PREFIX=kubernetes
# shellcheck source=../lib.sh
source "$here/../lib.sh"   # say, moddir, copytree

# piece LABEL STAMP FUNC: FUNC unless the stamp exists; its output in logs/STAMP.log, timed; stops on failure.
piece() {
  local label=$1 stamp=$2 fn=$3 t0=$SECONDS rc
  if [[ -e $STAMPS/$stamp ]]; then say "$label: cached"; return 0; fi
  set +e; ( set -e; "$fn" ) >"$LOGS/$stamp.log" 2>&1; rc=$?; set -e
  if (( rc != 0 )); then
    say "$label: FAILED after $((SECONDS - t0))s (log: $LOGS/$stamp.log)"
    tail -n 20 "$LOGS/$stamp.log" | sed 's/^/    /' >&2
    exit 1
  fi
  touch "$STAMPS/$stamp"
  say "$label: built in $((SECONDS - t0))s"
}

# The provider module's go.mod replaces its sdk with ../sdk, which the module zip lacks: drop the replace (the
# sdk is then the version go.mod requires), and generate the schema files its main embeds, as its Makefile does.
build_provider() {
  local d t="$SRC/pulumi-kubernetes-provider"
  d="$(moddir "$KUBERNETES_PROVIDER_MODULE" "$KUBERNETES_PROVIDER_MODULE_VERSION")"
  copytree "$d" "$t"
  cd "$t"
  "$GO" mod edit -dropreplace github.com/pulumi/pulumi-kubernetes/sdk/v4
  (cd cmd/pulumi-resource-kubernetes && VERSION="$KUBERNETES_PROVIDER_VERSION" "$GO" run ./generate.go)
  "$GO" build -p 2 -trimpath \
    -ldflags "-X $KUBERNETES_PROVIDER_MODULE/pkg/version.Version=$KUBERNETES_PROVIDER_VERSION" \
    -o "$BIN/pulumi-resource-kubernetes" ./cmd/pulumi-resource-kubernetes
}

# The module zip of k8s.io/kubernetes has no staging/ and no vendor/: each k8s.io/X => ./staging/src/k8s.io/X
# replace becomes the served k8s.io/X at the staging version.
KUBERNETES_TREE="$SRC/kubernetes-$KUBERNETES_VERSION"
kubernetes_tree() {
  [[ -e $KUBERNETES_TREE/.prepared ]] && return 0
  local d
  d="$(moddir "$KUBERNETES_MODULE" "$KUBERNETES_VERSION")"
  copytree "$d" "$KUBERNETES_TREE"
  cd "$KUBERNETES_TREE"
  rm -rf vendor go.work go.work.sum
  sed -i -E "s#^(\s*)(k8s\.io/[^ ]+) => \./staging/src/k8s\.io/[^ ]+\$#\1\2 => \2 $KUBERNETES_STAGING_VERSION#" go.mod
  "$GO" mod tidy >/dev/null 2>&1 || true   # a go.sum for the served staging modules
  touch .prepared
}

KUBERNETES_LDFLAGS="-X k8s.io/component-base/version.gitVersion=$KUBERNETES_VERSION \
-X k8s.io/component-base/version.gitMajor=$(cut -d. -f1 <<<"${KUBERNETES_VERSION#v}") \
-X k8s.io/component-base/version.gitMinor=$(cut -d. -f2 <<<"$KUBERNETES_VERSION") \
-X k8s.io/component-base/version.gitTreeState=clean"

build_apiserver() {
  kubernetes_tree
  cd "$KUBERNETES_TREE"
  "$GO" build -p 2 -trimpath -ldflags "$KUBERNETES_LDFLAGS" -o "$BIN/kube-apiserver" ./cmd/kube-apiserver
}

build_controller_manager() {
  kubernetes_tree
  cd "$KUBERNETES_TREE"
  "$GO" build -p 2 -trimpath -ldflags "$KUBERNETES_LDFLAGS" -o "$BIN/kube-controller-manager" \
    ./cmd/kube-controller-manager
}

build_scheduler() {
  kubernetes_tree
  cd "$KUBERNETES_TREE"
  "$GO" build -p 2 -trimpath -ldflags "$KUBERNETES_LDFLAGS" -o "$BIN/kube-scheduler" ./cmd/kube-scheduler
}

# kwok and the stages it plays: a node that initialises and keeps its heartbeat, pods that become ready at once.
build_kwok() {
  local d
  d="$(moddir "$KWOK_MODULE" "$KWOK_VERSION")"
  copytree "$d" "$SRC/kwok-$KWOK_VERSION"
  cd "$SRC/kwok-$KWOK_VERSION"
  "$GO" build -p 2 -trimpath -o "$BIN/kwok" ./cmd/kwok
  rm -rf "$CACHE/kwok-stages"; mkdir -p "$CACHE/kwok-stages"
  cp kustomize/stage/node/fast/node-initialize.yaml kustomize/stage/node/heartbeat/node-heartbeat.yaml \
    kustomize/stage/pod/fast/pod-*.yaml "$CACHE/kwok-stages/"
}

build_etcd() {
  cd "$here/etcd"
  "$GO" build -p 2 -trimpath -o "$BIN/etcd" .
}

build_operator() {
  local d t="$SRC/prometheus-operator-$OPERATOR_VERSION"
  d="$(moddir "$OPERATOR_MODULE" "$OPERATOR_VERSION")"
  copytree "$d" "$t"
  cd "$t"
  # Its API types and client are modules of their own, replaced with ./pkg/... that the zip leaves out: the
  # served modules of the same version instead.
  "$GO" mod edit -dropreplace "$OPERATOR_MODULE/pkg/apis/monitoring" -dropreplace "$OPERATOR_MODULE/pkg/client"
  "$GO" build -p 2 -trimpath \
    -ldflags "-X github.com/prometheus/common/version.Version=${OPERATOR_VERSION#v}" \
    -o "$BIN/prometheus-operator" ./cmd/operator
  rm -f "$CRDS"/*.yaml
  cp example/prometheus-operator-crd/*.yaml "$CRDS/"
}

piece "pulumi-resource-kubernetes $KUBERNETES_PROVIDER_VERSION" "provider-$KUBERNETES_PROVIDER_VERSION" build_provider
piece "etcd $ETCD_VERSION" "etcd-$ETCD_VERSION-$(cat "$here"/etcd/*.go "$here"/etcd/go.mod | sha256sum | cut -c1-12)" build_etcd
piece "kube-apiserver $KUBERNETES_VERSION" "apiserver-$KUBERNETES_VERSION" build_apiserver
piece "kube-controller-manager $KUBERNETES_VERSION" "controller-manager-$KUBERNETES_VERSION" build_controller_manager
piece "kube-scheduler $KUBERNETES_VERSION" "scheduler-$KUBERNETES_VERSION" build_scheduler
piece "kwok $KWOK_VERSION and its stages" "kwok-$KWOK_VERSION" build_kwok
piece "prometheus-operator $OPERATOR_VERSION and its CRDs" "operator-$OPERATOR_VERSION" build_operator
# The plugin where the built CLI looks for it (offline/toolchain/env.sh's PULUMI_HOME), checked on every run: that
# cache may have been emptied since.
# shellcheck source=../toolchain/env.sh
source "$root/offline/toolchain/env.sh" >/dev/null
if [[ ! -d $PULUMI_HOME/plugins/resource-kubernetes-v$KUBERNETES_PROVIDER_VERSION ]]; then
  pulumi plugin install resource kubernetes "$KUBERNETES_PROVIDER_VERSION" --file "$BIN/pulumi-resource-kubernetes"
  say "pulumi-resource-kubernetes $KUBERNETES_PROVIDER_VERSION installed into $PULUMI_HOME"
fi
