"""The log collector component (Promtail): Docker container logs to Loki.

Promtail reached end of life on 2026-03-02. Everything log-collection specific is in this module
and stacks/render/promtail.py, so Grafana Alloy can replace it behind the same LogCollectorArgs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from stacks.layout import DOCKER_SOCKET, PROMTAIL
from stacks.service import ContainerSpec, ServiceArgs, ServiceComponent


@dataclass(frozen=True)
class LogCollectorArgs:
    service: ServiceArgs
    config: str
    """promtail.yaml."""
    command: Sequence[str]
    docker_socket: str = DOCKER_SOCKET
    """The Docker daemon's socket on its host, mounted read-only for container discovery and logs."""


class Promtail(ServiceComponent):
    """Promtail. Attributes: volume (read positions, so a replacement does not resend logs), container, url."""

    def __init__(self, name: str, args: LogCollectorArgs, opts: pulumi.ResourceOptions | None = None):
        spec = ContainerSpec(
            service=PROMTAIL,
            command=args.command,
            files={PROMTAIL.config_path: args.config},
            host_binds=[(args.docker_socket, DOCKER_SOCKET)],
            user="root",  # reading the Docker socket needs root or the docker group of the host
        )
        super().__init__("monitoring:index:Promtail", name, args.service, spec, opts)
