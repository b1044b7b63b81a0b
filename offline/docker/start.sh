#!/usr/bin/env bash
# Make a Docker engine answer on this machine: install Debian's docker.io if dockerd
# is missing, start dockerd in the background if the daemon does not answer, and wait
# for `docker info`. Idempotent: a running daemon is left alone.
# Usage: offline/docker/start.sh
set -euo pipefail

CACHE="${MONITORING_IMAGES_CACHE:-$HOME/.cache/monitoring-images}"
LOG="$CACHE/dockerd.log"
TIMEOUT="${DOCKERD_TIMEOUT:-60}"
mkdir -p "$CACHE"
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"

if ! docker info >/dev/null 2>&1 && ! command -v dockerd >/dev/null; then
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
