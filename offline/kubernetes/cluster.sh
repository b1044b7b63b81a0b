#!/usr/bin/env bash
# A local Kubernetes control plane for the Kubernetes tier, as processes (no images): etcd, kube-apiserver,
# kube-controller-manager and kube-scheduler from offline/kubernetes/build.sh, on loopback ports below 32768,
# with a static admin token; kwok simulating one node (offline/kubernetes/node.yaml), on which the pods the
# scheduler binds are reported running and ready although no container runs; then the operator's CRDs.
# State under MONITORING_K8S_CLUSTER (default /tmp/monitoring-k8s); `start` prints the kubeconfig's path.
# Usage: offline/kubernetes/cluster.sh start|stop
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${MONITORING_K8S_CACHE:-$HOME/.cache/monitoring-kubernetes}"
BIN="$CACHE/bin"
DIR="${MONITORING_K8S_CLUSTER:-/tmp/monitoring-k8s}"
ETCD_PORT=23790 ETCD_PEER_PORT=23800 API_PORT=26443
TOKEN=monitoring-admin-token
KUBECONFIG_FILE="$DIR/kubeconfig"

# api METHOD PATH [BODY FILE]: the API server as the admin, printing the HTTP status.
api() {
  curl -sk -o "$DIR/last-response" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/yaml' ${3:+--data-binary "@$3"} "https://127.0.0.1:$API_PORT$2"
}

start_process() {  # NAME ARGS...: in the background, its pid and log under DIR
  local name=$1; shift
  setsid nohup "$@" >>"$DIR/$name.log" 2>&1 </dev/null &
  echo $! >"$DIR/$name.pid"
}

stop() {
  for name in kwok kube-scheduler kube-controller-manager kube-apiserver etcd; do
    [[ -f $DIR/$name.pid ]] || continue
    kill "$(cat "$DIR/$name.pid")" 2>/dev/null || true
    for ((i = 0; i < 30; i++)); do kill -0 "$(cat "$DIR/$name.pid")" 2>/dev/null || break; sleep 0.5; done
    rm -f "$DIR/$name.pid"
  done
}

start() {
  stop
  rm -rf "$DIR"; mkdir -p "$DIR/certs"
  openssl genrsa -out "$DIR/sa.key" 2048 2>/dev/null
  openssl rsa -in "$DIR/sa.key" -pubout -out "$DIR/sa.pub" 2>/dev/null
  echo "$TOKEN,admin,admin,system:masters" >"$DIR/tokens.csv"
  sed -e "s/@API_PORT@/$API_PORT/" -e "s/@TOKEN@/$TOKEN/" "$here/kubeconfig.template" >"$KUBECONFIG_FILE"
  start_process etcd "$BIN/etcd" --data-dir "$DIR/etcd" --name local \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "local=http://127.0.0.1:$ETCD_PEER_PORT"
  # On loopback there is no address for the kubernetes Service's endpoints: no reconciler.
  start_process kube-apiserver "$BIN/kube-apiserver" --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --bind-address 127.0.0.1 --secure-port "$API_PORT" --advertise-address 127.0.0.1 --cert-dir "$DIR/certs" \
    --token-auth-file "$DIR/tokens.csv" --authorization-mode RBAC \
    --service-account-key-file "$DIR/sa.pub" --service-account-signing-key-file "$DIR/sa.key" \
    --service-account-issuer https://kubernetes.default.svc --service-cluster-ip-range 10.96.0.0/16 \
    --endpoint-reconciler-type none
  for ((i = 0; i < 60; i++)); do
    [[ "$(api GET /readyz)" == 200 ]] && break
    sleep 1
  done
  if [[ "$(api GET /readyz)" != 200 ]]; then
    echo "[kubernetes] ERROR: kube-apiserver is not ready after 60s; last log lines:" >&2
    tail -20 "$DIR/kube-apiserver.log" >&2
    exit 1
  fi
  # A namespace's deletion, garbage collection, every namespace's default service account (which pods need), the
  # StatefulSets the operator creates, and the node lifecycle (it lifts the not-ready taint the API server puts on
  # a new node once kwok reports it ready).
  start_process kube-controller-manager "$BIN/kube-controller-manager" --kubeconfig "$KUBECONFIG_FILE" \
    --bind-address 127.0.0.1 --secure-port 0 --leader-elect=false \
    --service-account-private-key-file "$DIR/sa.key" --controllers 'namespace,garbagecollector,serviceaccount,statefulset,nodelifecycle'
  start_process kube-scheduler "$BIN/kube-scheduler" --kubeconfig "$KUBECONFIG_FILE" \
    --bind-address 127.0.0.1 --secure-port 0 --leader-elect=false
  stages=(); for stage in "$CACHE"/kwok-stages/*.yaml; do stages+=(--config "$stage"); done
  start_process kwok "$BIN/kwok" --kubeconfig "$KUBECONFIG_FILE" --manage-all-nodes=false \
    --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake --server-address 127.0.0.1:28082 "${stages[@]}"
  status="$(api POST /api/v1/nodes "$here/node.yaml")"
  [[ $status == 201 ]] || { echo "[kubernetes] the node: HTTP $status: $(cat "$DIR/last-response")" >&2; exit 1; }
  for crd in "$CACHE"/crds/*.yaml; do
    status="$(api POST /apis/apiextensions.k8s.io/v1/customresourcedefinitions "$crd")"
    [[ $status == 201 || $status == 409 ]] || { echo "[kubernetes] $crd: HTTP $status: $(cat "$DIR/last-response")" >&2; exit 1; }
  done
  echo "$KUBECONFIG_FILE"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
