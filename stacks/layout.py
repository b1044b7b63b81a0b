"""Where each service listens and keeps its data inside its container: fixed, not per stack.

Containers reach each other on the stack's Docker network by these names; only the published
host ports come from the stack settings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Service:
    name: str  # also the DNS alias on the stack network
    port: int  # inside the container
    health_path: str
    data_path: str
    config_path: str

    @property
    def internal_url(self) -> str:
        return f"http://{self.name}:{self.port}"


PROMETHEUS = Service("prometheus", 9090, "/-/ready", "/prometheus", "/etc/prometheus/prometheus.yml")
ALERTMANAGER = Service("alertmanager", 9093, "/-/ready", "/alertmanager", "/etc/alertmanager/alertmanager.yml")
LOKI = Service("loki", 3100, "/ready", "/loki", "/etc/loki/loki.yaml")
PROMTAIL = Service("promtail", 9080, "/ready", "/var/lib/promtail", "/etc/promtail/promtail.yaml")
GRAFANA = Service("grafana", 3000, "/api/health", "/var/lib/grafana", "/etc/grafana/grafana.ini")
SERVICES = (PROMETHEUS, ALERTMANAGER, LOKI, PROMTAIL, GRAFANA)
# The services Grafana reads as datasources. Each datasource's uid and type are the service's name, which
# is how dashboards and rules name them.
DATASOURCE_SERVICES = (PROMETHEUS.name, ALERTMANAGER.name, LOKI.name)
# A scrape job's name, whether a stack's scrapeTargets or an application's `monitoring.job` label sets it.
JOB_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_-]*$")
RULES_DIR = "/etc/prometheus/rules"
# Services that talk to the Docker host (application targets, webhook receivers) via host.docker.internal.
HOST_GATEWAY_SERVICES = frozenset({"prometheus", "alertmanager", "grafana"})
# Every container's healthcheck runs `wget -q --spider` on its health path, at this pace.
# Durations as Go prints them ("1m0s", not "60s"): the Docker provider reads them back that way, and any
# other spelling is a diff on every refresh. No start_interval: it needs Docker API 1.44 (engine 25), so
# the interval is short instead: a replaced container is healthy, and `pulumi up` done, at the first
# check that passes (2 s after start, not 5). Ten misses in a row (20 s) mark it unhealthy.
HEALTHCHECK = {"interval": "2s", "timeout": "3s", "retries": 10, "start_period": "1m0s"}
LOG_OPTIONS = {"max-size": "10m", "max-file": "3"}  # Docker keeps logs bounded; Loki keeps the history


def healthcheck_command(service: Service) -> list[str]:
    return ["CMD", "wget", "-q", "--spider", f"http://127.0.0.1:{service.port}{service.health_path}"]


DOCKER_SOCKET = "/var/run/docker.sock"


def published_url(bind_address: str, port: int) -> str:
    """Where a person on the Docker host reaches a published port."""
    host = "127.0.0.1" if bind_address in ("0.0.0.0", "::") else bind_address
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
