"""The Loki component: single binary, chunks and index on a named volume."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from stacks.layout import LOKI
from stacks.service import ContainerSpec, ServiceArgs, ServiceComponent


@dataclass(frozen=True)
class LokiArgs:
    service: ServiceArgs
    config: str
    """loki.yaml."""
    command: Sequence[str]


class Loki(ServiceComponent):
    """Loki. Attributes: volume, container, url."""

    def __init__(self, name: str, args: LokiArgs, opts: pulumi.ResourceOptions | None = None):
        spec = ContainerSpec(service=LOKI, command=args.command, files={LOKI.config_path: args.config})
        super().__init__("monitoring:index:Loki", name, args.service, spec, opts)
