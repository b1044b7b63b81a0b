"""The Prometheus component: rendered prometheus.yml, the rule files, data on a named volume, and (for the
discovery of application containers) the Docker socket, read-only."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi

from stacks.layout import DOCKER_SOCKET, PROMETHEUS, RULES_DIR
from stacks.service import ContainerSpec, ServiceArgs, ServiceComponent


@dataclass(frozen=True)
class PrometheusArgs:
    service: ServiceArgs
    config: str
    """prometheus.yml."""
    command: Sequence[str]
    rule_files: Mapping[str, str] = field(default_factory=dict)
    """File name -> rule file text, uploaded to /etc/prometheus/rules/ (a change replaces the container)."""
    docker_socket_group: str | None = None
    """Numeric group id of the Docker socket on the Docker host: mounts the socket read-only for the discovery
    of application containers (prometheus.yml's docker_sd_configs). None: no socket."""
    docker_socket: str = DOCKER_SOCKET
    """The Docker daemon's socket on its host."""


class Prometheus(ServiceComponent):
    """Prometheus server. Attributes: volume, container, url."""

    def __init__(self, name: str, args: PrometheusArgs, opts: pulumi.ResourceOptions | None = None):
        files = {PROMETHEUS.config_path: args.config}
        files.update({f"{RULES_DIR}/{file}": text for file, text in args.rule_files.items()})
        group = args.docker_socket_group
        spec = ContainerSpec(
            service=PROMETHEUS,
            command=args.command,
            files=files,
            host_binds=[(args.docker_socket, DOCKER_SOCKET)] if group else (),
            # The image's user, nobody, in the socket's group: enough to read the socket; never root.
            group_adds=[group] if group else (),
        )
        super().__init__("monitoring:index:Prometheus", name, args.service, spec, opts)
