"""The Prometheus component: rendered prometheus.yml, the rule files, data on a named volume."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import pulumi

from stacks.layout import PROMETHEUS, RULES_DIR
from stacks.service import ContainerSpec, ServiceArgs, ServiceComponent


@dataclass(frozen=True)
class PrometheusArgs:
    service: ServiceArgs
    config: str
    """prometheus.yml."""
    command: Sequence[str]
    rule_files: Mapping[str, str] = field(default_factory=dict)
    """File name -> rule file text, uploaded to /etc/prometheus/rules/ (a change replaces the container)."""


class Prometheus(ServiceComponent):
    """Prometheus server. Attributes: volume, container, url."""

    def __init__(self, name: str, args: PrometheusArgs, opts: pulumi.ResourceOptions | None = None):
        files = {PROMETHEUS.config_path: args.config}
        files.update({f"{RULES_DIR}/{file}": text for file, text in args.rule_files.items()})
        spec = ContainerSpec(service=PROMETHEUS, command=args.command, files=files)
        super().__init__("monitoring:index:Prometheus", name, args.service, spec, opts)
