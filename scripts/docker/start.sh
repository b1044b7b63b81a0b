#!/usr/bin/env bash
# Make a Docker engine answer on this machine: install Debian's docker.io if dockerd
# is missing, start dockerd in the background if the daemon does not answer, and wait
# for `docker info`. Idempotent: a running daemon is left alone.
# Usage: scripts/docker/start.sh [--check]   (--check also runs a network/health/port smoke test)
set -euo pipefail

CACHE="${MONITORING_IMAGES_CACHE:-$HOME/.cache/monitoring-images}"
LOG="$CACHE/dockerd.log"
TIMEOUT="${DOCKERD_TIMEOUT:-60}"
mkdir -p "$CACHE"
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"

if ! command -v dockerd >/dev/null; then
  # Debian's engine; a client already at /usr/local/bin/docker stays first on PATH.
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 \
    $sudo apt-get install -y -qq --no-install-recommends docker.io >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  echo "[docker] starting dockerd (log: $LOG)"
  # setsid: the daemon outlives this script and its caller's job control.
  $sudo setsid nohup dockerd >>"$LOG" 2>&1 </dev/null &
  for ((i = 0; i < TIMEOUT; i++)); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  if ! docker info >/dev/null 2>&1; then
    echo "[docker] ERROR: dockerd did not answer within ${TIMEOUT}s; last log lines:" >&2
    tail -20 "$LOG" >&2
    exit 1
  fi
fi
echo "[docker] engine up: $(docker info --format '{{.ServerVersion}} {{.Driver}} cgroup v{{.CgroupVersion}}')"

[ "${1:-}" = --check ] || exit 0

# Smoke test with a tiny local image (busybox-static only; no registry needed):
# a user-defined network with DNS, a healthcheck, a port published on 127.0.0.1.
command -v busybox >/dev/null || $sudo apt-get install -y -qq busybox-static >/dev/null
img=monitoring-smoke:busybox
if ! docker image inspect "$img" >/dev/null 2>&1; then
  root="$(mktemp -d)"; mkdir -p "$root/bin" "$root/www"
  cp "$(command -v busybox)" "$root/bin/busybox"
  for a in sh wget httpd nslookup sleep; do ln -s busybox "$root/bin/$a"; done
  echo ok >"$root/www/index.html"
  tar -C "$root" -c . | docker import -c 'ENV PATH=/bin' - "$img" >/dev/null
  rm -rf "$root"
fi
net=monitoring-smoke-net; c1=monitoring-smoke-web; c2=monitoring-smoke-client
cleanup() { docker rm -f "$c1" "$c2" >/dev/null 2>&1 || true; docker network rm "$net" >/dev/null 2>&1 || true; }
trap cleanup EXIT
cleanup
docker network create "$net" >/dev/null
docker run -d --name "$c1" --network "$net" -p 127.0.0.1:18080:8080 \
  --health-cmd 'wget -q --spider http://127.0.0.1:8080/' --health-interval 1s \
  "$img" httpd -f -p 8080 -h /www >/dev/null
for ((i = 0; i < 30; i++)); do
  [ "$(docker inspect -f '{{.State.Health.Status}}' "$c1")" = healthy ] && break; sleep 1
done
[ "$(docker inspect -f '{{.State.Health.Status}}' "$c1")" = healthy ] || { echo "[docker] healthcheck failed" >&2; exit 1; }
docker run --rm --name "$c2" --network "$net" "$img" wget -q -O- "http://$c1:8080/" | grep -q ok \
  || { echo "[docker] DNS on the user-defined network failed" >&2; exit 1; }
wget -q -O- http://127.0.0.1:18080/ 2>/dev/null | grep -q ok || curl -fsS http://127.0.0.1:18080/ | grep -q ok \
  || { echo "[docker] port published on 127.0.0.1 not reachable" >&2; exit 1; }
echo "[docker] check passed: network DNS, healthcheck, 127.0.0.1 port"
