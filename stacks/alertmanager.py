"""The Alertmanager component: rendered alertmanager.yml (a secret: it holds receiver URLs), silences on a volume."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from stacks.layout import ALERTMANAGER
from stacks.service import ContainerSpec, ServiceArgs, ServiceComponent


@dataclass(frozen=True)
class AlertmanagerArgs:
    service: ServiceArgs
    config: str
    """alertmanager.yml; sent as a Pulumi secret."""
    command: Sequence[str]


class Alertmanager(ServiceComponent):
    """Alertmanager. Attributes: volume (silences and notification log survive replacement), container, url."""

    def __init__(self, name: str, args: AlertmanagerArgs, opts: pulumi.ResourceOptions | None = None):
        spec = ContainerSpec(
            service=ALERTMANAGER,
            command=args.command,
            files={ALERTMANAGER.config_path: pulumi.Output.secret(args.config)},
        )
        super().__init__("monitoring:index:Alertmanager", name, args.service, spec, opts)
