"""Where each service listens and keeps its data inside its container: fixed, not per stack.

Containers reach each other on the stack's Docker network by these names; only the published
host ports come from the stack settings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Service:
    """One service of the stack. Its renderer is stacks/render/<name>.py (a `container_spec`, in RENDERERS), its
    component type COMPONENT_TYPES[<name>] in stacks/resources/service.py, its image pin IMAGES[<name>] in
    stacks/versions.py (docs/configuration.md, "Adding a service")."""

    name: str  # also the DNS alias on the stack network
    port: int  # inside the container
    health_path: str
    data_path: str
    config_path: str
    host_port: int  # published on the Docker host unless the stack's `ports` says otherwise
    datasource: Mapping[str, object] | None = None
    """When Grafana reads it as a datasource (whose uid and type are its name): the datasource's jsonData."""
    host_gateway: bool = False  # reaches the Docker host (application targets, webhook receivers)

    @property
    def internal_url(self) -> str:
        return f"http://{self.name}:{self.port}"


PROMETHEUS = Service(
    "prometheus",
    9090,
    "/-/ready",
    "/prometheus",
    "/etc/prometheus/prometheus.yml",
    9091,
    datasource={"httpMethod": "POST"},
    host_gateway=True,
)
ALERTMANAGER = Service(
    "alertmanager",
    9093,
    "/-/ready",
    "/alertmanager",
    "/etc/alertmanager/alertmanager.yml",
    9093,
    datasource={"implementation": "prometheus", "handleGrafanaManagedAlerts": False},
    host_gateway=True,
)
LOKI = Service("loki", 3100, "/ready", "/loki", "/etc/loki/loki.yaml", 3100, datasource={"maxLines": 1000})
PROMTAIL = Service("promtail", 9080, "/ready", "/var/lib/promtail", "/etc/promtail/promtail.yaml", 9080)
GRAFANA = Service(
    "grafana", 3000, "/api/health", "/var/lib/grafana", "/etc/grafana/grafana.ini", 3010, host_gateway=True
)
SERVICES = (PROMETHEUS, ALERTMANAGER, LOKI, PROMTAIL, GRAFANA)
SERVICE_BY_NAME = {service.name: service for service in SERVICES}
DATASOURCE_SERVICES = tuple(service.name for service in SERVICES if service.datasource is not None)
# A scrape job's name, whether a stack's scrapeTargets or an application's `monitoring.job` label sets it.
JOB_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_-]*$")
RULES_DIR = "/etc/prometheus/rules"
# Every container's healthcheck runs `wget -q --spider` on its health path, at this pace.
# Durations as Go prints them ("1m0s", not "60s"): the Docker provider reads them back that way, and any
# other spelling is a diff on every refresh. No start_interval: it needs Docker API 1.44 (engine 25), so
# the interval is short instead: a replaced container is healthy, and `pulumi up` done, at the first
# check that passes (2 s after start, not 5). Ten misses in a row (20 s) mark it unhealthy.
HEALTHCHECK = {"interval": "2s", "timeout": "3s", "retries": 10, "start_period": "1m0s"}
LOG_OPTIONS = {"max-size": "10m", "max-file": "3"}  # Docker keeps logs bounded; Loki keeps the history
# What every container gets to shut down cleanly when stopped or replaced (SIGTERM, then SIGKILL after this many
# seconds): Prometheus closes its TSDB head, Alertmanager writes its silences and notification log, Loki and
# Promtail their WAL and positions. Without it the docker plugin kills at once (SIGKILL ~20 ms after SIGTERM).
# Set as the plugin's destroy_grace_seconds (`pulumi up` replacing, `pulumi destroy`) and as the container's
# stop_timeout (`docker stop`, a daemon shutdown).
STOP_GRACE_SECONDS = 30


def healthcheck_command(service: Service) -> list[str]:
    return ["CMD", "wget", "-q", "--spider", f"http://127.0.0.1:{service.port}{service.health_path}"]


# The scrape job that discovers application containers; a static scrapeTargets job may not take its name.
APP_DISCOVERY_JOB = "docker-apps"

# The labels of every log stream, and what the dashboards' and rules' LogQL may select on: the Promtail
# pipeline writes them (stacks/render/promtail.py), stacks/content/log_labels.py checks the queries. The
# seeds' own queries name others: seed 000's job="containerlogs", seed 003's compose_service, seed 002's
# Kubernetes app; here they are job="docker" and service.
LOG_JOB = "docker"
LOG_LABELS = {
    "job": f'always "{LOG_JOB}"',
    "container": "the container's name",
    "service": "its compose service (label com.docker.compose.service), e.g. wealist-user-service's user-service",
    "stream": "stdout or stderr",
    "level": "the JSON line's level, lower case, warning as warn: debug, info, warn, error, fatal, ...",
    "environment": "the stack's environment (dev, staging, prod)",
    "host": "the Docker host the container runs on, as `hosts` names it (local by default)",
}
# A level as the pipeline writes it: what a `level` matcher may compare with.
LOG_LEVELS = ("debug", "info", "warn", "error", "fatal", "panic", "trace")
# The Docker log stream a line came from (Promtail's __meta_docker_container_log_stream).
LOG_STREAMS = ("stdout", "stderr")


@dataclass(frozen=True)
class Agent:
    """An agent the stack runs on every watched Docker host (the `hosts` key), in the host's network
    namespace: it listens on the host's address, and Prometheus scrapes it there under its name as the job."""

    name: str  # the scrape job, and the `agents` entry that selects it
    port: int  # its listening port unless the host's `ports` says otherwise
    health_path: str


NODE_EXPORTER = Agent("node-exporter", 9100, "/")  # upstream's default
# Not upstream's 8080: that is most application servers' default (Gin, Spring Boot, Tomcat), K-ERP's API's among
# them (seed 002), and one port has one process. 9338 is no framework's default and none of the stack's ports.
CADVISOR = Agent("cadvisor", 9338, "/healthz")
METRIC_AGENTS = (NODE_EXPORTER, CADVISOR)
# The log collector: on the stack's own host it is the promtail service; on another host, an agent that pushes
# to the stack's Loki (loki.pushUrl). It publishes nothing.
LOG_AGENT = PROMTAIL.name
AGENT_NAMES = (*(agent.name for agent in METRIC_AGENTS), LOG_AGENT)
# What the stack's own host's agents listen on unless `address` says otherwise: the Docker host's gateway
# address for containers (host-gateway), which the agents and Prometheus resolve through their /etc/hosts.
# Reachable from every container of that daemon, and not from another machine.
OWN_HOST_ADDRESS = "host.docker.internal"

# Where each kind of exporter listens inside its container (postgres_exporter's --web.listen-address default,
# redis_exporter's -web.listen-address default). Exporters publish no host port: Prometheus scrapes them on
# the stack network, under their job name.
EXPORTER_PORTS = {"postgres": 9187, "redis": 9121}

DOCKER_SOCKET = "/var/run/docker.sock"

HOST_LABEL = "monitoring.host"
"""On every agent container and volume: the host's name as `hosts` gives it."""


COMPOSE_PROJECT_LABEL = "com.docker.compose.project"  # the stack's name prefix, on its network too
COMPOSE_SERVICE_LABEL = "com.docker.compose.service"


def compose_labels(name_prefix: str, service: str) -> dict[str, str]:
    """The labels of each container and volume of the stack, as compose would set them: Promtail turns the service
    into the `service` log label, and `docker compose ls` and `docker ps --filter` find the stack by its project."""
    return {COMPOSE_PROJECT_LABEL: name_prefix, COMPOSE_SERVICE_LABEL: service}


def published_url(bind_address: str, port: int) -> str:
    """Where a person on the Docker host reaches a published port."""
    host = "127.0.0.1" if bind_address in ("0.0.0.0", "::") else bind_address
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def name_prefix(configured: str, environment: str) -> str:
    """The prefix of every container, volume and network name: namePrefix, or monitoring-<environment>."""
    return configured or f"monitoring-{environment}"
