"""The Loki component: single binary, chunks and index on a named volume."""

from __future__ import annotations

import pulumi

from stacks.render.containers import ContainerSpec
from stacks.service import ServiceArgs, ServiceComponent


class Loki(ServiceComponent):
    """Loki. Attributes: volume, container, url."""

    def __init__(self, name: str, args: ServiceArgs, spec: ContainerSpec, opts: pulumi.ResourceOptions | None = None):
        super().__init__("monitoring:index:Loki", name, args, spec, opts)
