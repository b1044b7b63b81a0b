#!/usr/bin/env bash
# Smoke-test the locally built images the way the program runs them: each container gets a
# throwaway minimal config (under a temp dir), a fresh named volume on its data path (so the
# image's directory ownership must carry over), and must answer the program's healthcheck
# command `wget -q --spider http://127.0.0.1:<port><path>` inside the container. Everything
# it creates is removed. Usage: scripts/images/verify.sh [prometheus|alertmanager|loki|promtail|grafana ...]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
tmp="$(mktemp -d /tmp/monitoring-verify.XXXXXX)"
net=monitoring-verify
created=()
cleanup() {
  for c in "${created[@]}"; do docker rm -f "$c" >/dev/null 2>&1 || true; docker volume rm "$c-data" >/dev/null 2>&1 || true; done
  docker network rm "$net" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
docker network inspect "$net" >/dev/null 2>&1 || docker network create "$net" >/dev/null

cat >"$tmp/prometheus.yml" <<'EOF'
global: {scrape_interval: 5s}
scrape_configs: [{job_name: self, static_configs: [{targets: ['127.0.0.1:9090']}]}]
EOF
cat >"$tmp/alertmanager.yml" <<'EOF'
route: {receiver: default}
receivers: [{name: default}]
EOF
cat >"$tmp/loki.yaml" <<'EOF'
auth_enabled: false
server: {http_listen_port: 3100, grpc_listen_port: 9096}
common:
  path_prefix: /loki
  replication_factor: 1
  ring: {kvstore: {store: inmemory}}
  storage: {filesystem: {chunks_directory: /loki/chunks, rules_directory: /loki/rules}}
schema_config:
  configs: [{from: 2024-01-01, store: tsdb, object_store: filesystem, schema: v13, index: {prefix: index_, period: 24h}}]
EOF
cat >"$tmp/promtail.yaml" <<'EOF'
server: {http_listen_port: 9080, grpc_listen_port: 0}
positions: {filename: /var/lib/promtail/positions.yaml}
clients: [{url: 'http://verify-loki:3100/loki/api/v1/push'}]
scrape_configs:
  - job_name: docker
    docker_sd_configs: [{host: 'unix:///var/run/docker.sock', refresh_interval: 5s}]
EOF
cat >"$tmp/grafana.ini" <<'EOF'
[analytics]
reporting_enabled = false
check_for_updates = false
check_for_plugin_updates = false
EOF
chmod a+r "$tmp"/*

# run NAME IMAGE PORT PATH DATA_PATH CONFIG_SRC CONFIG_DST [docker run args...] -- [command args...]
run() {
  local name="verify-$1" image="$2" port="$3" path="$4" data="$5" src="$6" dst="$7" opts=() i
  shift 7
  while [[ $# -gt 0 && $1 != -- ]]; do opts+=("$1"); shift; done
  [[ ${1:-} == -- ]] && shift
  created+=("$name")
  docker run -d --name "$name" --network "$net" -v "$name-data:$data" -v "$tmp/$src:$dst:ro" \
    "${opts[@]}" "$image" "$@" >/dev/null
  for ((i = 0; i < 90; i++)); do
    if docker exec "$name" wget -q --spider "http://127.0.0.1:$port$path" 2>/dev/null; then
      echo "[verify] $image: healthy after ${i}s (runs as uid $(docker exec "$name" id -u); $data on a fresh volume owned by uid $(docker exec "$name" stat -c %u "$data"))"
      return 0
    fi
    [[ $(docker inspect -f '{{.State.Running}}' "$name") == true ]] || break
    sleep 1
  done
  echo "[verify] $image: FAILED; last log lines:" >&2
  docker logs --tail 20 "$name" >&2
  return 1
}

rc=0
for svc in ${@:-prometheus alertmanager loki promtail grafana}; do
  case $svc in
    prometheus) run prometheus "$PROMETHEUS_TAG" 9090 /-/ready /prometheus prometheus.yml /etc/prometheus/prometheus.yml || rc=1 ;;
    alertmanager) run alertmanager "$ALERTMANAGER_TAG" 9093 /-/ready /alertmanager alertmanager.yml /etc/alertmanager/alertmanager.yml || rc=1 ;;
    loki) run loki "$LOKI_TAG" 3100 /ready /loki loki.yaml /etc/loki/loki.yaml -- -config.file=/etc/loki/loki.yaml || rc=1 ;;
    promtail) run promtail "$PROMTAIL_TAG" 9080 /ready /var/lib/promtail promtail.yaml /etc/promtail/promtail.yaml \
      -v /var/run/docker.sock:/var/run/docker.sock -- -config.file=/etc/promtail/promtail.yaml || rc=1 ;;
    grafana) run grafana "$GRAFANA_TAG" 3000 /api/health /var/lib/grafana grafana.ini /etc/grafana/grafana.ini || rc=1 ;;
    *) echo "unknown service $svc" >&2; rc=1 ;;
  esac
done
exit $rc
