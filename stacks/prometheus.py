"""The Prometheus component: prometheus.yml and the rule files uploaded, data on a named volume, and (for the
discovery of application containers) the Docker socket, read-only (stacks/render/containers.py)."""

from __future__ import annotations

import pulumi

from stacks.render.containers import ContainerSpec
from stacks.service import ServiceArgs, ServiceComponent


class Prometheus(ServiceComponent):
    """Prometheus server. Attributes: volume, container, url."""

    def __init__(self, name: str, args: ServiceArgs, spec: ContainerSpec, opts: pulumi.ResourceOptions | None = None):
        super().__init__("monitoring:index:Prometheus", name, args, spec, opts)
