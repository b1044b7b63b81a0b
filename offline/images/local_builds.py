"""How offline/images/build.sh builds, for machines without a registry, the same release of the services and
agents whose source this project may build (Apache-2.0 Go modules): `LOCAL_BUILDS`, at the releases
stacks/versions.py pins. Those images are tagged under `LOCAL_REGISTRY`, never under the upstream name, so a
local build can never shadow the real image, and a stack selects them through `images` (`local_images()`, the
services) and the agents' images (`local_agent_images()`). Grafana, Loki and Promtail are AGPL: they are never
built here (docs/building-without-registries.md, "Never built or downloaded").

`TEST_RECEIVERS` are servers the tests send to (Prometheus remote write into a real receiver) that no stack
deploys: they have no upstream pin in stacks/versions.py, only a local build (`TEST_RECEIVER_BUILDS`, built by the
same script under `LOCAL_REGISTRY`; `local_test_receiver_image()`).

`python -m offline.images.local_builds` prints the local builds as shell assignments, for the build script.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from stacks.versions import AGENT_IMAGES, IMAGES

LOCAL_REGISTRY = "monitoring.local"


@dataclass(frozen=True)
class LocalBuild:
    """How the upstream release of one service or agent is built from its Go module."""

    module: str
    module_version: str
    """The Go module version of that release (Prometheus 3.x releases are module v0.3xx.y)."""
    commands: tuple[str, ...]
    """Packages to build, relative to the module root: a server's cmd/NAME and its command-line tool, or
    "." for an agent whose main package is the module root."""
    main: str = ""
    """For a release whose main package no module on the Go module proxy carries: this project's main
    module (a directory of the repository) that builds the release's packages at `module_version`."""

    def version(self, service: str) -> str:
        """The release, as the upstream tag writes it (v3.16.0); a test receiver's from `TEST_RECEIVERS`."""
        if service in TEST_RECEIVERS:
            return TEST_RECEIVERS[service]
        return (IMAGES | AGENT_IMAGES)[service].rsplit(":", 1)[1]


LOCAL_BUILDS = {
    "prometheus": LocalBuild("github.com/prometheus/prometheus", "v0.316.0", ("prometheus", "promtool")),
    "alertmanager": LocalBuild("github.com/prometheus/alertmanager", "v0.35.0", ("alertmanager", "amtool")),
    "node-exporter": LocalBuild("github.com/prometheus/node_exporter", "v1.12.1", (".",)),
    # cAdvisor's main is in the module github.com/google/cadvisor/cmd, which the Go module proxy does not
    # serve: `go list -m -versions` lists nothing for it and @v/v0.60.6 answers "This module version is not
    # available" (upstream builds cmd from a clone, its go.mod replacing the library with ../). Its packages
    # are in github.com/google/cadvisor (the Docker handler) and github.com/google/cadvisor/lib (manager,
    # metrics), both served at v0.60.6; offline/images/cadvisor is the main that serves them on /metrics.
    "cadvisor": LocalBuild("github.com/google/cadvisor", "v0.60.6", (".",), main="offline/images/cadvisor"),
}

# The receivers the tests send to, by name: the release each local build compiles. No stack deploys them.
TEST_RECEIVERS = {
    # VictoriaMetrics single-node v1.151.0 (Apache-2.0), tagged 2026-08-28 (the Go module proxy's time of tag
    # v1.151.0 of github.com/VictoriaMetrics/VictoriaMetrics): docs/victoriametrics/changelog/CHANGELOG.md
    # "## [v1.151.0](https://github.com/VictoriaMetrics/VictoriaMetrics/releases/tag/v1.151.0)" in the module
    # at that version (which still calls it "Release candidate"; v1.150.0 "Released at 2026-08-17" precedes it).
    "victoria-metrics": "v1.151.0",
}

TEST_RECEIVER_BUILDS = {
    # Its single-node server's main is app/victoria-metrics of the module (which is the release: module
    # version = tag); the module's go.mod asks for go 1.26.6.
    "victoria-metrics": LocalBuild("github.com/VictoriaMetrics/VictoriaMetrics", "v1.151.0", ("app/victoria-metrics",)),
}


def local_image(service: str) -> str:
    """The local name of a service's (or test receiver's) locally built image: monitoring.local/prometheus:v3.16.0."""
    return f"{LOCAL_REGISTRY}/{service}:{(LOCAL_BUILDS | TEST_RECEIVER_BUILDS)[service].version(service)}"


def local_images() -> dict[str, str]:
    """The `images` config that selects every local build of a service (the agents are not services)."""
    return {service: local_image(service) for service in LOCAL_BUILDS if service in IMAGES}


def local_agent_images() -> dict[str, str]:
    """The agents' images that select their local builds: node-exporter and cadvisor -> monitoring.local/..."""
    return {agent: local_image(agent) for agent in LOCAL_BUILDS if agent in AGENT_IMAGES}


def local_test_receiver_image(receiver: str = "victoria-metrics") -> str:
    """A test receiver's local image (the tests run it; no stack does): monitoring.local/victoria-metrics:v1.151.0."""
    return local_image(receiver)


def _shell() -> str:
    """Lines per local build, test receivers included: NAME_TAG, NAME_VERSION, NAME_MODULE, NAME_MODULE_VERSION
    and NAME_MAIN (NAME upper-cased, "-" as "_": NODE_EXPORTER_TAG, VICTORIA_METRICS_TAG)."""
    lines = []
    for service, build in (LOCAL_BUILDS | TEST_RECEIVER_BUILDS).items():
        key = service.upper().replace("-", "_")
        lines += [
            f"{key}_TAG={local_image(service)}",
            f"{key}_VERSION={build.version(service).removeprefix('v')}",
            f"{key}_MODULE={build.module}",
            f"{key}_MODULE_VERSION={build.module_version}",
            f"{key}_MAIN={build.main}",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(_shell() + "\n")
