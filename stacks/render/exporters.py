"""The exporters of the systems' datastores (the `exporters` key): what each container runs with, and how
Prometheus scrapes it. No data, no published port: Prometheus scrapes it on the stack network under its job name.
The upstream images are built FROM scratch, with nothing to run a healthcheck."""

from __future__ import annotations

from stacks.config.settings import ExporterSettings
from stacks.layout import EXPORTER_PORTS
from stacks.render.spec import ContainerSpec
from stacks.versions import EXPORTER_IMAGES


def exporter_spec(exporter: ExporterSettings, name_prefix: str) -> ContainerSpec:
    if exporter.kind == "postgres":
        envs = (f"DATA_SOURCE_NAME={exporter.address}",)
    else:  # redis: a password as REDIS_PASSWORD (REDIS_PASSWORD_FILE would want a JSON map of address -> password)
        envs = (f"REDIS_ADDR={exporter.address}",) + (
            (f"REDIS_PASSWORD={exporter.password}",) if exporter.password else ()
        )
    return ContainerSpec(
        name=exporter.job,
        container_name=f"{name_prefix}-{exporter.job}",
        image=exporter.image or EXPORTER_IMAGES[exporter.kind],
        envs=envs,
        secret=True,  # the connection, with its credentials
        port=EXPORTER_PORTS[exporter.kind],
        on_network=True,
    )
