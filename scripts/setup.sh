#!/usr/bin/env bash
# Installs what the program and its tests need, idempotently: the Python virtualenv that Pulumi.yaml
# names (.venv), the Pulumi CLI and docker plugin built from Go modules (cached in ~/.cache/monitoring-toolchain)
# for the engine tiers, and for the containers tier a Docker engine, docker-compose and the Prometheus and
# Alertmanager images built locally under their local names (cached in ~/.cache/monitoring-images; their servers,
# promtool and amtool are what the tools and live tiers run), and for the
# Kubernetes tier etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok, the Prometheus Operator and
# the kubernetes plugin (cached in ~/.cache/monitoring-kubernetes).
# Only permissively licensed parts are built: never Grafana, Loki, Promtail or the Grafana plugin (AGPL).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
# Reinstall only when the requirements changed (pip's resolver alone costs seconds on every run).
stamp=.venv/.requirements.sha256
want=$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
  echo "$want" > "$stamp"
fi

# The tools and live tiers run the stack's own Prometheus 3.16 and Alertmanager 0.35 and their promtool and
# amtool, which offline/images/build.sh builds (Debian's packages are older releases: 2.42 and 0.25).
missing=()
command -v docker-compose >/dev/null || missing+=(docker-compose)
command -v shellcheck >/dev/null || missing+=(shellcheck)  # actionlint checks run: scripts with it
# The Kubernetes tier's local cluster: its service-account keys, and its readiness and CRD requests.
command -v openssl >/dev/null || missing+=(openssl)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

bash offline/toolchain/actionlint.sh
bash offline/toolchain/build.sh
bash offline/docker/start.sh
bash offline/images/build.sh
bash offline/kubernetes/build.sh
