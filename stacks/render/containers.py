"""What each service's container runs with: command, configuration files, environment, host mounts, user.

One pure description per service the stack runs, from the settings and the content. The Pulumi components
(stacks/service.py) and the compose file (stacks/render/compose.py) are both built from it, so the two
cannot drift.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from stacks.content import Content
from stacks.layout import ALERTMANAGER, DOCKER_SOCKET, GRAFANA, LOKI, PROMETHEUS, PROMTAIL, RULES_DIR, Service
from stacks.render.alertmanager import alertmanager_command, render_alertmanager_config
from stacks.render.grafana import grafana_environment
from stacks.render.loki import loki_command, render_loki_config
from stacks.render.prometheus import prometheus_command, render_prometheus_config
from stacks.render.promtail import promtail_command, render_promtail_config
from stacks.settings import StackSettings


@dataclass(frozen=True)
class ContainerSpec:
    """The service-specific part of a container."""

    service: Service
    command: Sequence[str] = ()
    files: Mapping[str, str] = field(default_factory=dict)
    """Container path -> content, uploaded before start."""
    envs: Sequence[str] = ()
    host_binds: Sequence[tuple[str, str]] = ()
    """(host path, container path), read-only."""
    user: str | None = None
    group_adds: Sequence[str] = ()
    """Supplementary groups (numeric ids) of the image's user."""
    secret: bool = False
    """The files and environment hold secrets (receiver URLs, the admin password): sent as Pulumi secrets."""
    after: Sequence[str] = ()
    """Services this one starts after (their containers healthy first)."""


def _prometheus(settings: StackSettings, content: Content, socket_group: str | None) -> ContainerSpec:
    rule_files = {f.name: f.text for f in content.rule_files}
    return ContainerSpec(
        service=PROMETHEUS,
        command=prometheus_command(settings),
        files={
            PROMETHEUS.config_path: render_prometheus_config(settings, sorted(rule_files)),
            **{f"{RULES_DIR}/{name}": text for name, text in rule_files.items()},
        },
        # Application discovery reads the Docker socket: mounted read-only, and the image's user, nobody, in
        # the socket's group (enough to read it; never root).
        host_binds=[(DOCKER_SOCKET, DOCKER_SOCKET)] if socket_group else (),
        group_adds=[socket_group] if socket_group else (),
    )


def _alertmanager(settings: StackSettings, content: Content, socket_group: str | None) -> ContainerSpec:
    return ContainerSpec(
        service=ALERTMANAGER,
        command=alertmanager_command(settings),
        files={ALERTMANAGER.config_path: render_alertmanager_config(settings.alerting)},
        secret=True,  # receiver URLs and keys
    )


def _loki(settings: StackSettings, content: Content, socket_group: str | None) -> ContainerSpec:
    return ContainerSpec(service=LOKI, command=loki_command(), files={LOKI.config_path: render_loki_config(settings)})


def _promtail(settings: StackSettings, content: Content, socket_group: str | None) -> ContainerSpec:
    return ContainerSpec(
        service=PROMTAIL,
        command=promtail_command(),
        files={PROMTAIL.config_path: render_promtail_config(settings)},
        host_binds=[(DOCKER_SOCKET, DOCKER_SOCKET)],  # container discovery and their log files
        user="root",  # reading the Docker socket needs root or the docker group of the host
        after=[LOKI.name],
    )


def _grafana(settings: StackSettings, content: Content, socket_group: str | None) -> ContainerSpec:
    return ContainerSpec(service=GRAFANA, envs=grafana_environment(settings), secret=True)  # the admin password


_SPECS: dict[str, Callable[[StackSettings, Content, str | None], ContainerSpec]] = {
    PROMETHEUS.name: _prometheus,
    ALERTMANAGER.name: _alertmanager,
    LOKI.name: _loki,
    PROMTAIL.name: _promtail,
    GRAFANA.name: _grafana,
}


def container_specs(
    settings: StackSettings, content: Content, docker_socket_group: str | None = None
) -> dict[str, ContainerSpec]:
    """Service name -> its container, for the services the stack runs, in layout order.

    `docker_socket_group`: the Docker socket's group id (stacks.environment), which Prometheus joins to
    discover application containers; needed when settings.app_discovery is enabled.
    """
    if settings.app_discovery.enabled and not docker_socket_group:
        raise ValueError("app discovery needs the Docker socket's group id (stacks.environment.docker_socket_group)")
    group = docker_socket_group if settings.app_discovery.enabled else None
    return {name: _SPECS[name](settings, content, group) for name in settings.services}
