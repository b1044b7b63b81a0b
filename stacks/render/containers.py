"""What each service's container runs with: command, configuration files, environment, host mounts, user.

One pure description per service the stack runs, from the settings and the content: the `container_spec` of
the service's renderer, stacks/render/<name>.py. The Pulumi components (stacks/service.py) and the compose file
(stacks/render/compose.py) are both built from it, so the two cannot drift.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from stacks.layout import Service

if TYPE_CHECKING:
    from stacks.content import Content
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
    check: Sequence[str] = ()
    """The image's own check of the files (argv, the executable first), run in a container of its own before
    the service's container is replaced: a configuration the server would refuse never takes it down."""


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
    return {
        name: importlib.import_module(f"stacks.render.{name}").container_spec(settings, content, group)
        for name in settings.services
    }
