"""An exporter of a system's datastore (postgres_exporter, redis_exporter): one container on the stack network,
scraped by Prometheus under its job name. No data, no published port; the upstream images are built FROM
scratch, with nothing to run a healthcheck, so `pulumi up` waits for it to run, not to be healthy."""

from __future__ import annotations

import pulumi
import pulumi_docker as docker

from stacks.layout import LOG_OPTIONS, STOP_GRACE_SECONDS
from stacks.render.exporters import ExporterSpec


class Exporter(pulumi.ComponentResource):
    """Attributes: `container`."""

    def __init__(
        self,
        name: str,
        spec: ExporterSpec,
        name_prefix: str,
        network_name: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("monitoring:index:Exporter", name, None, opts)
        labels = {"com.docker.compose.project": name_prefix, "com.docker.compose.service": spec.job}
        self.container = docker.Container(
            f"{name}-container",
            name=f"{name_prefix}-{spec.job}",
            image=spec.image,
            envs=pulumi.Output.secret(list(spec.envs)),  # the connection's credentials
            restart="unless-stopped",
            networks_advanced=[docker.ContainerNetworksAdvancedArgs(name=network_name, aliases=[spec.job])],
            labels=[docker.ContainerLabelArgs(label=k, value=v) for k, v in labels.items()],
            log_driver="json-file",
            log_opts=LOG_OPTIONS,
            destroy_grace_seconds=STOP_GRACE_SECONDS,
            stop_timeout=STOP_GRACE_SECONDS,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"containerName": self.container.name, "job": spec.job})
