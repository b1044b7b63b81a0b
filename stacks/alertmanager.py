"""The Alertmanager component: alertmanager.yml (a secret: it holds receiver URLs), silences on a volume."""

from __future__ import annotations

import pulumi

from stacks.render.containers import ContainerSpec
from stacks.service import ServiceArgs, ServiceComponent


class Alertmanager(ServiceComponent):
    """Alertmanager. Attributes: volume (silences and notification log survive replacement), container, url."""

    def __init__(self, name: str, args: ServiceArgs, spec: ContainerSpec, opts: pulumi.ResourceOptions | None = None):
        super().__init__("monitoring:index:Alertmanager", name, args, spec, opts)
