"""The log collector component (Promtail): Docker container logs to Loki.

Promtail reached end of life on 2026-03-02. Everything log-collection specific is in this module,
stacks/render/promtail.py and its ContainerSpec (stacks/render/containers.py), so Grafana Alloy can replace it.
"""

from __future__ import annotations

import pulumi

from stacks.render.containers import ContainerSpec
from stacks.service import ServiceArgs, ServiceComponent


class Promtail(ServiceComponent):
    """Promtail. Attributes: volume (read positions, so a replacement does not resend logs), container, url."""

    def __init__(self, name: str, args: ServiceArgs, spec: ContainerSpec, opts: pulumi.ResourceOptions | None = None):
        super().__init__("monitoring:index:Promtail", name, args, spec, opts)
