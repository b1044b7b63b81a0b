"""Pinned images, in one place. Never `latest`: a moved tag must be a reviewed change here.

`IMAGES` are the upstream releases a stack runs unless its `images` config names others (a private
mirror, an air-gapped registry, or the local builds below). Each pin cites where the release is
announced.

`LOCAL_BUILDS` says how scripts/images/build.sh builds the same release of the services whose source
this project may build (Apache-2.0 Go modules) for machines without a registry. Those images are tagged
under `LOCAL_REGISTRY`, never under the upstream name, so a local build can never shadow the real image,
and a stack selects them through `images` (`local_images()`). Grafana, Loki and Promtail are AGPL: they
are never built here (README, "Status").

`python -m stacks.versions` prints the local builds as shell assignments, for the build script.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

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

LOCAL_REGISTRY = "monitoring.local"


@dataclass(frozen=True)
class LocalBuild:
    """How the upstream release of one service is built from its Go module."""

    module: str
    module_version: str
    """The Go module version of that release (Prometheus 3.x releases are module v0.3xx.y)."""
    commands: tuple[str, ...]
    """Packages under cmd/ to build: the server and its command-line tool."""

    def version(self, service: str) -> str:
        """The release, as the upstream tag writes it (v3.16.0)."""
        return IMAGES[service].rsplit(":", 1)[1]


LOCAL_BUILDS = {
    "prometheus": LocalBuild("github.com/prometheus/prometheus", "v0.316.0", ("prometheus", "promtool")),
    "alertmanager": LocalBuild("github.com/prometheus/alertmanager", "v0.35.0", ("alertmanager", "amtool")),
}


def local_image(service: str) -> str:
    """The local name of a service's locally built image: monitoring.local/prometheus:v3.16.0."""
    return f"{LOCAL_REGISTRY}/{service}:{LOCAL_BUILDS[service].version(service)}"


def local_images() -> dict[str, str]:
    """The `images` config that selects every local build."""
    return {service: local_image(service) for service in LOCAL_BUILDS}


def _shell() -> str:
    """One line per local build: SERVICE_TAG, SERVICE_VERSION, SERVICE_MODULE, SERVICE_MODULE_VERSION."""
    lines = []
    for service, build in LOCAL_BUILDS.items():
        key = service.upper()
        lines += [
            f"{key}_TAG={local_image(service)}",
            f"{key}_VERSION={build.version(service).removeprefix('v')}",
            f"{key}_MODULE={build.module}",
            f"{key}_MODULE_VERSION={build.module_version}",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(_shell() + "\n")
