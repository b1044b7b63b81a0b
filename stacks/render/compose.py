"""A docker-compose file equivalent to the stack's containers, from the same rendered configuration.

Same images, commands, configuration files, named volumes, network aliases, published ports and
healthchecks as the Pulumi components; no Grafana content (that goes through the Grafana API).
It is the peer the benchmarks compare `pulumi up` with, and lets the containers tier of the tests
run the real images without the Pulumi provider plugins. The files hold secrets (the admin
password, receiver URLs): write them only to a private directory.
"""

from __future__ import annotations

from stacks.config.settings import StackSettings
from stacks.content.model import Content
from stacks.layout import COMPOSE_SERVICE_LABEL, HEALTHCHECK, LOG_OPTIONS, STOP_GRACE_SECONDS
from stacks.outputs import network_name
from stacks.render.agents import agent_specs
from stacks.render.containers import container_specs
from stacks.render.spec import ContainerSpec
from stacks.syntax.yaml_io import to_yaml


def render_compose(
    settings: StackSettings, content: Content, docker_socket_group: str | None = None
) -> tuple[str, dict[str, str]]:
    """The compose file (version 2.4, which Compose v1 and v2 read) and the files it mounts, by relative path:
    the services the stack runs and the agents of the stack's own host (the other hosts are other daemons, which
    one compose file cannot reach), from the same container specs as the Pulumi program.

    `docker_socket_group`: the socket's group id, for the discovery of application containers (as the
    Prometheus component gets it); needed when settings.app_discovery is enabled.
    """
    files: dict[str, str] = {}
    services = {}
    specs = list(container_specs(settings, content, docker_socket_group).values())
    for host in (h for h in settings.hosts if h.own):
        specs += agent_specs(host, settings)
    for spec in specs:
        for inside, text in spec.files.items():
            files[f"{spec.name}{inside}"] = text  # ./prometheus/etc/prometheus/prometheus.yml, and so on
        services[spec.name] = compose_service(spec)
    volumes = {f"{spec.name}-data": {"name": spec.volume_name} for spec in specs if spec.data_path}
    compose = {
        "version": "2.4",
        "services": services,
        "volumes": volumes,
        "networks": {"monitoring": {"name": network_name(settings.name_prefix)}},
    }
    return to_yaml(compose), files


def compose_service(spec: ContainerSpec) -> dict:
    """One container as a compose service; its files mounted read-only from ./<name>/<path in the container>."""
    definition: dict = {
        "image": spec.image,
        "container_name": spec.container_name,
        "restart": "unless-stopped",
        "stop_grace_period": f"{STOP_GRACE_SECONDS}s",
        "volumes": [
            *([f"{spec.name}-data:{spec.data_path}"] if spec.data_path else []),
            *(f"./{spec.name}{inside}:{inside}:ro" for inside in spec.files),
            *(f"{host}:{inside}:ro" for host, inside in spec.host_binds),
        ],
    }
    if spec.published:
        definition["ports"] = [f"{spec.published.ip}:{spec.published.host_port}:{spec.published.port}"]
    if spec.on_network:
        definition["networks"] = {"monitoring": {"aliases": [spec.name]}}
    if spec.host_network:
        definition["network_mode"] = "host"
    if spec.host_pid:
        definition["pid"] = "host"
    if spec.healthcheck:
        definition["healthcheck"] = {"test": list(spec.healthcheck), **HEALTHCHECK}
    definition["labels"] = {COMPOSE_SERVICE_LABEL: spec.name, **spec.labels}
    definition["logging"] = {"driver": "json-file", "options": dict(LOG_OPTIONS)}
    optional = {
        "command": list(spec.command),
        "environment": list(spec.envs),
        "user": spec.user,
        "group_add": list(spec.group_adds),
        "devices": [f"{device}:{device}" for device in spec.devices],
        "depends_on": {other: {"condition": "service_healthy"} for other in spec.after},
        "extra_hosts": ["host.docker.internal:host-gateway"] if spec.add_host_gateway else [],
    }
    return definition | {key: value for key, value in optional.items() if value}
