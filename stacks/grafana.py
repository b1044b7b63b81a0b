"""The Grafana server component: admin credentials from config (the password a secret), data on a volume."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from stacks.layout import GRAFANA
from stacks.service import ContainerSpec, ServiceArgs, ServiceComponent


@dataclass(frozen=True)
class GrafanaArgs:
    service: ServiceArgs
    environment: Sequence[str]
    """GF_* variables; sent as a secret because they hold the admin password."""


class Grafana(ServiceComponent):
    """Grafana. `pulumi up` waits until /api/health answers before any Grafana content is pushed.

    Attributes: volume, container, url. Note: Grafana applies the admin password only when its
    database is created; changing it later needs `grafana cli admin reset-admin-password`.
    """

    def __init__(self, name: str, args: GrafanaArgs, opts: pulumi.ResourceOptions | None = None):
        spec = ContainerSpec(service=GRAFANA, command=(), envs=pulumi.Output.secret(list(args.environment)))
        super().__init__("monitoring:index:Grafana", name, args.service, spec, opts)
