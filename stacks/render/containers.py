"""What each service's container runs with, from the settings and the content: one ContainerSpec
(stacks/render/spec.py) per service the stack runs, from its renderer, stacks/render/<name>.py. The Pulumi
components (stacks/resources/service.py) and the compose file (stacks/render/compose.py) are both built from it, so
the two cannot drift.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from stacks.render import alertmanager, grafana, loki, prometheus, promtail
from stacks.render.spec import ContainerSpec

if TYPE_CHECKING:
    from stacks.config.settings import StackSettings
    from stacks.content.model import Content

# Each service's renderer, by the service's name (stacks/layout.py SERVICES).
RENDERERS: dict[str, Callable[[StackSettings, Content, str | None], ContainerSpec]] = {
    "prometheus": prometheus.container_spec,
    "alertmanager": alertmanager.container_spec,
    "loki": loki.container_spec,
    "promtail": promtail.container_spec,
    "grafana": grafana.container_spec,
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
    return {name: RENDERERS[name](settings, content, group) for name in settings.services}
