"""An exporter of a system's datastore (postgres_exporter, redis_exporter): one container on the stack network,
scraped by Prometheus under its job name (stacks/render/exporters.py)."""

from __future__ import annotations

import pulumi

from stacks.render.spec import ContainerSpec
from stacks.resources.container import docker_container


class Exporter(pulumi.ComponentResource):
    """Attributes: `container`."""

    def __init__(
        self,
        name: str,
        spec: ContainerSpec,
        name_prefix: str,
        network_name: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("monitoring:index:Exporter", name, None, opts)
        self.container = docker_container(
            f"{name}-container",
            spec,
            name_prefix=name_prefix,
            network_name=network_name,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"containerName": self.container.name, "job": spec.name})
