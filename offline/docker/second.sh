#!/usr/bin/env bash
# A second Docker daemon on this machine: the engine tier's second host. Its own socket, data-root, exec-root,
# pidfile and bridge (MONITORING_SECOND_BRIDGE, MONITORING_SECOND_ADDRESS: the bridge's address, which is the
# address the test gives that host's agents). No iptables rules of its own: the first daemon's stay as they
# are, and its agents use the host's network, which needs none. Idempotent.
# Usage: offline/docker/second.sh start   (prints the daemon's DOCKER_HOST)
#        offline/docker/second.sh stop    (stops it and removes its bridge; its data-root stays, as a host's would)
set -euo pipefail

NAME="${MONITORING_SECOND_NAME:-monitoring-second}"
BRIDGE="${MONITORING_SECOND_BRIDGE:-msecond0}"
ADDRESS="${MONITORING_SECOND_ADDRESS:-172.31.250.1}"
RUN="/run/$NAME"
SOCKET="unix://$RUN/docker.sock"
CACHE="${MONITORING_IMAGES_CACHE:-$HOME/.cache/monitoring-images}"
LOG="$CACHE/$NAME-dockerd.log"
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"

case "${1:-}" in
  start)
    bash "$(dirname "$0")/start.sh" >/dev/null  # the first daemon, and dockerd installed
    if docker -H "$SOCKET" info >/dev/null 2>&1; then echo "$SOCKET"; exit 0; fi
    mkdir -p "$CACHE"
    $sudo mkdir -p "$RUN"
    if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
      $sudo ip link add name "$BRIDGE" type bridge
      $sudo ip addr add "$ADDRESS/24" dev "$BRIDGE"
    fi
    $sudo ip link set "$BRIDGE" up
    $sudo setsid nohup dockerd --host "$SOCKET" --data-root "/var/lib/$NAME" --exec-root "$RUN/exec" \
      --pidfile "$RUN/docker.pid" --bridge "$BRIDGE" --iptables=false --ip-masq=false >>"$LOG" 2>&1 </dev/null &
    for ((i = 0; i < 60; i++)); do
      docker -H "$SOCKET" info >/dev/null 2>&1 && break
      sleep 1
    done
    if ! docker -H "$SOCKET" info >/dev/null 2>&1; then
      echo "[docker] ERROR: the second dockerd did not answer within 60s; last log lines:" >&2
      tail -20 "$LOG" >&2
      exit 1
    fi
    echo "$SOCKET"
    ;;
  stop)
    if [ -f "$RUN/docker.pid" ]; then
      pid="$(cat "$RUN/docker.pid")"
      $sudo kill "$pid" 2>/dev/null || true
      for ((i = 0; i < 30; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    fi
    ip link show "$BRIDGE" >/dev/null 2>&1 && $sudo ip link del "$BRIDGE"
    true
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
