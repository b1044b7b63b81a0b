"""The Grafana server component: admin credentials from config (the password a secret), data on a volume."""

from __future__ import annotations

import pulumi

from stacks.render.containers import ContainerSpec
from stacks.service import ServiceArgs, ServiceComponent


class Grafana(ServiceComponent):
    """Grafana. `pulumi up` waits until /api/health answers before any Grafana content is pushed.

    Attributes: volume, container, url. Note: Grafana applies the admin password only when its
    database is created; changing it later needs `grafana cli admin reset-admin-password`.
    """

    def __init__(self, name: str, args: ServiceArgs, spec: ContainerSpec, opts: pulumi.ResourceOptions | None = None):
        super().__init__("monitoring:index:Grafana", name, args, spec, opts)
