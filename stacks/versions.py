"""Pinned images, in one place. Never `latest`: a moved tag must be a reviewed change here.

`IMAGES` are the upstream releases a stack runs unless its `images` config names others (a private
mirror, an air-gapped registry, or the local builds of offline/images/local_builds.py). Each pin cites where
the release is announced.

`EXPORTER_IMAGES` are the exporters a stack may run for a system's datastores, by kind.

`AGENT_IMAGES` are the agents a stack runs on every Docker host: node-exporter (the host's metrics) and
cAdvisor (its containers' metrics).
"""

from __future__ import annotations

IMAGES = {
    # Prometheus 3.16.0, 2026-11-04: CHANGELOG.md "## 3.16.0 / 2026-11-04" of github.com/prometheus/prometheus
    # (Go module v0.316.0; https://github.com/prometheus/prometheus/releases/tag/v3.16.0).
    "prometheus": "prom/prometheus:v3.16.0",
    # Alertmanager 0.35.0, 2026-11-09: CHANGELOG.md "## 0.35.0 / 2026-11-09" of github.com/prometheus/alertmanager
    # (https://github.com/prometheus/alertmanager/releases/tag/v0.35.0).
    "alertmanager": "prom/alertmanager:v0.35.0",
    # Loki 3.7.8, 2026-09-17: release notes docs/sources/release-notes/v3-7.md at tag v3.7.8
    # (https://github.com/grafana/loki/releases/tag/v3.7.8).
    "loki": "grafana/loki:3.7.8",
    # Promtail 3.6.11, the last Promtail image: Grafana publishes none for 3.7 ("manifest unknown" for 3.7.3,
    # https://github.com/scylladb/scylla-monitoring/pull/2885), and Promtail reached its end of life on
    # 2026-03-02 (https://grafana.com/docs/loki/latest/send-data/promtail/). Grafana Alloy succeeds it.
    "promtail": "grafana/promtail:3.6.11",
    # Grafana 13.2.3, the newest patch of 13.2: 13.2.0 2026-08-18 (CHANGELOG.md "13.2.0 (2026-08-18)"), 13.2.2
    # 2026-09-15 (endoflife.date), 13.2.3 deployed in public repositories by digest
    # sha256:b28bae15e219c998fb0e0424ed724930cc61b1f61fb404d47c862f9a23f9e572.
    # https://github.com/grafana/grafana/releases/tag/v13.2.3
    "grafana": "grafana/grafana:13.2.3",
}

# The exporters a stack may run for a system's datastores (the `exporters` key), by kind.
EXPORTER_IMAGES = {
    # postgres_exporter 0.20.1, 2026-07-07: CHANGELOG.md "## 0.20.1 / 2026-07-07" of
    # github.com/prometheus-community/postgres_exporter (Apache-2.0); the image on quay.io, as its README names it.
    "postgres": "quay.io/prometheuscommunity/postgres-exporter:v0.20.1",
    # redis_exporter 1.91.1, 2026-08-21: the release notes of github.com/oliver006/redis_exporter (MIT) v1.91.1,
    # as quoted in a Renovate update of that day; the project keeps no CHANGELOG file.
    "redis": "oliver006/redis_exporter:v1.91.1",
}

# The agents a stack runs on every Docker host, by name.
AGENT_IMAGES = {
    # node_exporter 1.12.1, 2026-07-14: CHANGELOG.md "## 1.12.1 / 2026-07.14" (sic) of
    # github.com/prometheus/node_exporter (Apache-2.0; https://github.com/prometheus/node_exporter/releases/tag/v1.12.1).
    # prom/ as its Makefile.common publishes it (DOCKER_REPO ?= prom); quay.io/prometheus/node-exporter, which
    # its README runs, is the same build.
    "node-exporter": "prom/node-exporter:v1.12.1",
    # cAdvisor 0.60.6, 2026-09-09: the Go module proxy's time of tag v0.60.6 of github.com/google/cadvisor
    # (Apache-2.0; https://github.com/google/cadvisor/releases/tag/v0.60.6); its CHANGELOG.md stops at
    # 0.39.0 (2021-03-08) and dates no later release. Images are on ghcr.io since v0.53.0: README.md at v0.60.6,
    # "ghcr.io/google/cadvisor:$VERSION # for versions prior to v0.53.0, use gcr.io/cadvisor/cadvisor instead",
    # and .github/workflows/publish-container.yml pushes each v* tag as v{{version}} and {{version}}
    # (https://github.com/google/cadvisor/pull/3806).
    "cadvisor": "ghcr.io/google/cadvisor:v0.60.6",
}
