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
    HEALTHCHECK,
    HOST_GATEWAY_SERVICES,
    LOG_OPTIONS,
    STOP_GRACE_SECONDS,
    healthcheck_command,
)
from stacks.render.agents import AgentSpec, agent_specs
from stacks.render.containers import container_specs
from stacks.settings import StackSettings
from stacks.syntax.yaml_io import to_yaml


def render_compose(
    settings: StackSettings, content: Content, docker_socket_group: str | None = None
) -> tuple[str, dict[str, str]]:
    """The compose file (version 2.4, which Compose v1 and v2 read) and the files it mounts, by relative path:
    the services the stack runs, with its images, from the same container specs as the Pulumi components, and the
    agents of the stack's own host from the same agent specs.

    `docker_socket_group`: the socket's group id, for the discovery of application containers (as the
    Prometheus component gets it); needed when settings.app_discovery is enabled.
    """
    prefix = settings.name_prefix
    files: dict[str, str] = {}
    services = {}
    for name, spec in container_specs(settings, content, docker_socket_group).items():
        service = spec.service
        mounts = []
        for inside, text in spec.files.items():
            files[f"{name}{inside}"] = text  # ./prometheus/etc/prometheus/prometheus.yml, and so on
            mounts.append(f"./{name}{inside}:{inside}:ro")
        definition: dict = {
            "image": settings.images[name],
            "container_name": f"{prefix}-{name}",
            "restart": "unless-stopped",
            "stop_grace_period": f"{STOP_GRACE_SECONDS}s",
            "volumes": [
                f"{name}-data:{service.data_path}",
                *mounts,
                *(f"{host}:{inside}:ro" for host, inside in spec.host_binds),
            ],
            "ports": [f"{settings.bind_address}:{settings.ports[name]}:{service.port}"],
            "networks": {"monitoring": {"aliases": [name]}},
            "healthcheck": {"test": healthcheck_command(service), **HEALTHCHECK},
            "labels": {"com.docker.compose.service": name},
            "logging": {"driver": "json-file", "options": dict(LOG_OPTIONS)},
        }
        if spec.command:
            definition["command"] = list(spec.command)
        if spec.envs:
            definition["environment"] = list(spec.envs)
        if spec.user:
            definition["user"] = spec.user
        if spec.group_adds:
            definition["group_add"] = list(spec.group_adds)
        if spec.after:
            definition["depends_on"] = {other: {"condition": "service_healthy"} for other in spec.after}
        if name in HOST_GATEWAY_SERVICES:
            definition["extra_hosts"] = ["host.docker.internal:host-gateway"]
        services[name] = definition
    volumes = {f"{name}-data": {"name": f"{prefix}-{name}-data"} for name in services}
    for host in (h for h in settings.hosts if h.own):
        for spec in agent_specs(host, settings):
            services[spec.name] = _agent_service(spec, f"{prefix}-{host.name}-{spec.name}")
    compose = {
        "version": "2.4",
        "services": services,
        "volumes": volumes,
        "networks": {"monitoring": {"name": network_name(prefix)}},
    }
    return to_yaml(compose), files


def _agent_service(spec: AgentSpec, container_name: str) -> dict:
    """One of the stack's own host's agents (stacks/host_agents.py): the other hosts are other daemons, which
    one compose file cannot reach."""
    definition: dict = {
        "image": spec.image,
        "container_name": container_name,
        "restart": "unless-stopped",
        "stop_grace_period": f"{STOP_GRACE_SECONDS}s",
        "command": list(spec.command),
        "volumes": [f"{path}:{inside}:ro" for path, inside in spec.host_binds],
        "healthcheck": {"test": list(spec.healthcheck), **HEALTHCHECK},
        "labels": {"com.docker.compose.service": spec.name},
        "logging": {"driver": "json-file", "options": dict(LOG_OPTIONS)},
    }
    if spec.host_network:
        definition["network_mode"] = "host"
    if spec.host_pid:
        definition["pid"] = "host"
    if spec.devices:
        definition["devices"] = [f"{device}:{device}" for device in spec.devices]
    if spec.add_host_gateway:
        definition["extra_hosts"] = ["host.docker.internal:host-gateway"]
    if spec.user:
        definition["user"] = spec.user
    return definition
