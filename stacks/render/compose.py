"""A docker-compose file equivalent to the stack's containers, from the same rendered configuration.

Same images, commands, configuration files, named volumes, network aliases, published ports and
healthchecks as the Pulumi components; no Grafana content (that goes through the Grafana API).
It is the peer the benchmarks compare `pulumi up` with, and lets the containers tier of the tests
run the real images without the Pulumi provider plugins. The files hold secrets (the admin
password, receiver URLs): write them only to a private directory.
"""

from __future__ import annotations

from stacks.content import Content
from stacks.contract import network_name
from stacks.layout import (
    ALERTMANAGER,
    DOCKER_SOCKET,
    GRAFANA,
    HEALTHCHECK,
    HOST_GATEWAY_SERVICES,
    LOG_OPTIONS,
    LOKI,
    PROMETHEUS,
    PROMTAIL,
    RULES_DIR,
    SERVICES,
    healthcheck_command,
)
from stacks.render import to_yaml
from stacks.render.alertmanager import alertmanager_command, render_alertmanager_config
from stacks.render.grafana import grafana_environment
from stacks.render.loki import loki_command, render_loki_config
from stacks.render.prometheus import prometheus_command, render_prometheus_config
from stacks.render.promtail import promtail_command, render_promtail_config
from stacks.settings import StackSettings


def render_compose(
    settings: StackSettings, content: Content, docker_socket_group: str | None = None
) -> tuple[str, dict[str, str]]:
    """The compose file (version 2.4, which Compose v1 and v2 read) and the files it mounts, by relative path:
    the services the stack runs, with its images.

    `docker_socket_group`: the socket's group id, for the discovery of application containers (as the
    Prometheus component gets it); needed when settings.app_discovery is enabled.
    """
    if settings.app_discovery.enabled and not docker_socket_group:
        raise ValueError("app discovery needs the Docker socket's group id (stacks.environment.docker_socket_group)")
    rule_names = sorted(f.name for f in content.rule_files)
    files = {
        "prometheus/prometheus.yml": render_prometheus_config(settings, rule_names),
        **{f"prometheus/rules/{f.name}": f.text for f in content.rule_files},
        "alertmanager/alertmanager.yml": render_alertmanager_config(settings.alerting),
    }
    if settings.runs(LOKI.name):
        files["loki/loki.yaml"] = render_loki_config(settings)
    if settings.runs(PROMTAIL.name):
        files["promtail/promtail.yaml"] = render_promtail_config(settings)
    mounts = {
        PROMETHEUS.name: [
            f"./prometheus/prometheus.yml:{PROMETHEUS.config_path}:ro",
            f"./prometheus/rules:{RULES_DIR}:ro",
        ],
        ALERTMANAGER.name: [f"./alertmanager/alertmanager.yml:{ALERTMANAGER.config_path}:ro"],
        LOKI.name: [f"./loki/loki.yaml:{LOKI.config_path}:ro"],
        PROMTAIL.name: [f"./promtail/promtail.yaml:{PROMTAIL.config_path}:ro", f"{DOCKER_SOCKET}:{DOCKER_SOCKET}:ro"],
        GRAFANA.name: [],
    }
    commands = {
        PROMETHEUS.name: prometheus_command(settings),
        ALERTMANAGER.name: alertmanager_command(settings),
        LOKI.name: loki_command(),
        PROMTAIL.name: promtail_command(),
    }
    prefix = settings.name_prefix
    services = {}
    running = [service for service in SERVICES if settings.runs(service.name)]
    for service in running:
        definition: dict = {
            "image": settings.images[service.name],
            "container_name": f"{prefix}-{service.name}",
            "restart": "unless-stopped",
            "volumes": [f"{service.name}-data:{service.data_path}", *mounts[service.name]],
            "ports": [f"{settings.bind_address}:{settings.ports[service.name]}:{service.port}"],
            "networks": {"monitoring": {"aliases": [service.name]}},
            "healthcheck": {"test": healthcheck_command(service), **HEALTHCHECK},
            "labels": {"com.docker.compose.service": service.name},
            "logging": {"driver": "json-file", "options": dict(LOG_OPTIONS)},
        }
        if service.name in commands:
            definition["command"] = commands[service.name]
        if service.name in HOST_GATEWAY_SERVICES:
            definition["extra_hosts"] = ["host.docker.internal:host-gateway"]
        if service is PROMETHEUS and settings.app_discovery.enabled:
            definition["volumes"].append(f"{DOCKER_SOCKET}:{DOCKER_SOCKET}:ro")
            definition["group_add"] = [docker_socket_group]
        if service is PROMTAIL:
            definition["user"] = "root"
            definition["depends_on"] = {LOKI.name: {"condition": "service_healthy"}}
        if service is GRAFANA:
            definition["environment"] = grafana_environment(settings)
        services[service.name] = definition
    compose = {
        "version": "2.4",
        "services": services,
        "volumes": {f"{s.name}-data": {"name": f"{prefix}-{s.name}-data"} for s in running},
        "networks": {"monitoring": {"name": network_name(prefix)}},
    }
    return to_yaml(compose), files
