"""The exporters of the systems' datastores (the `exporters` key): what each container runs with."""

from __future__ import annotations

from dataclasses import dataclass

from stacks.layout import EXPORTER_PORTS
from stacks.settings_scraping import ExporterSettings
from stacks.versions import EXPORTER_IMAGES


@dataclass(frozen=True)
class ExporterSpec:
    job: str
    """The scrape job, and the container's name on the stack network."""
    image: str
    port: int
    envs: tuple[str, ...]
    """The connection, with its credentials: sent as a Pulumi secret."""


def exporter_spec(exporter: ExporterSettings) -> ExporterSpec:
    if exporter.kind == "postgres":
        envs = (f"DATA_SOURCE_NAME={exporter.address}",)
    else:  # redis: a password as REDIS_PASSWORD (REDIS_PASSWORD_FILE would want a JSON map of address -> password)
        envs = (f"REDIS_ADDR={exporter.address}",) + (
            (f"REDIS_PASSWORD={exporter.password}",) if exporter.password else ()
        )
    return ExporterSpec(
        job=exporter.job,
        image=exporter.image or EXPORTER_IMAGES[exporter.kind],
        port=EXPORTER_PORTS[exporter.kind],
        envs=envs,
    )


def exporter_scrape_jobs(exporters: tuple[ExporterSettings, ...]) -> list[dict]:
    """One scrape job per exporter, on the stack network under its job name."""
    return [
        {"job_name": spec.job, "static_configs": [{"targets": [f"{spec.job}:{spec.port}"]}]}
        for spec in map(exporter_spec, exporters)
    ]
