"""What every service component shares: its data volume and its container.

A service component is a ComponentResource with two children, `<name>-data` (a named volume) and
`<name>-container`. The container is created with its configuration files uploaded. A server that reloads
(Prometheus, Alertmanager: the spec's `reload`) then takes every change of its files in place, through a third
child, `<name>-config` (stacks/reload.py), and keeps its container; for the others a change of the files
replaces the container. The volume is a separate resource and is never replaced by a config change.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_docker as docker

from stacks.layout import published_url
from stacks.reload import ConfigReload
from stacks.render.spec import ContainerSpec
from stacks.resources.container import data_volume, docker_container, sensitive, spec_labels, upload_args


@dataclass(frozen=True)
class ServiceArgs:
    """What a service's component takes from the stack besides its spec."""

    network_name: pulumi.Input[str]
    """The stack's Docker network; the container joins it under the service name."""
    name_prefix: str
    """Prefix of the container and volume names, unique per stack on a Docker host."""
    protect_volume: bool = False
    """Keep the data volume on the Docker host when Pulumi deletes or replaces it (prod)."""
    docker_host: str = ""
    """The Docker host the stack's provider talks to ("" for DOCKER_HOST or the local socket): where a
    configuration is delivered."""


# Each service's component type, by the service's name (stacks/layout.py SERVICES): the type in its URN.
COMPONENT_TYPES = {
    "prometheus": "monitoring:index:Prometheus",  # prometheus.yml and the rule files; the TSDB on the volume
    "alertmanager": "monitoring:index:Alertmanager",  # silences and notification log on the volume
    "loki": "monitoring:index:Loki",  # single binary; chunks and index on the volume
    # The log collector: its read positions on the volume, so that a new container does not send logs again.
    # Promtail reached end of life on 2026-03-02; its renderer (stacks/render/promtail.py) is all that is
    # collector-specific, so Grafana Alloy can replace it.
    "promtail": "monitoring:index:Promtail",
    # Grafana applies the admin password only when its database is created: docs/configuration.md, "Secrets".
    "grafana": "monitoring:index:Grafana",
}

CHECK_LABEL = "monitoring.config-check"
"""On a service container whose image checks its files: "passed", set once the check container has."""


class ServiceComponent(pulumi.ComponentResource):
    """A service's component: one data volume and one healthy container, as its ContainerSpec says.

    Attributes: `volume` (docker.Volume), `container` (docker.Container), `check` (docker.Container that ran
    the image's own check of the files, or None for a service whose image has none), `config` (ConfigReload,
    which delivers the files into the running server, or None for a server that does not reload), `url` (the
    published URL).
    """

    volume: docker.Volume
    container: docker.Container
    url: str

    def __init__(self, name: str, args: ServiceArgs, spec: ContainerSpec, opts: pulumi.ResourceOptions | None = None):
        super().__init__(COMPONENT_TYPES[spec.name], name, None, opts)
        labels = spec_labels(args.name_prefix, spec)
        self.volume = data_volume(
            f"{name}-data",
            spec,
            name_prefix=args.name_prefix,
            retain=args.protect_volume,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.check = None
        check_label = []
        if spec.check:
            self.check = docker.Container(
                f"{name}-check",
                name=f"{spec.container_name}-check",
                image=spec.image,
                entrypoints=[spec.check[0]],
                command=list(spec.check[1:]),
                user=spec.user,
                uploads=upload_args(spec),
                network_mode="none",
                must_run=False,
                attach=True,  # the provider waits for it to exit and records exit_code and its output
                logs=True,
                labels=[docker.ContainerLabelArgs(label=k, value=v) for k, v in labels.items()],
                opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["containerLogs"]),
            )
            # The service's container is registered only once the check has passed: when it fails, the update
            # stops here and the running container (removed first on a replace) is never touched. The result
            # goes in through a label, which no policy reads: at preview it is unknown while the check is to
            # run, and the image, command and files the policies check stay known.
            passed = _check_verdict(self.check, spec.name, spec.check)
            check_label = [docker.ContainerLabelArgs(label=CHECK_LABEL, value=passed)]
        ignored = []
        if spec.reload:
            # A server that reloads takes new files through `config`, never through a new container; nor is the
            # check's result a reason to replace it, unknown at preview while the check is to run again (the last
            # label).
            ignored = ["uploads", *([f"labels[{len(labels)}]"] if spec.check else [])]
        self.container = docker_container(
            f"{name}-container",
            spec,
            name_prefix=args.name_prefix,
            network_name=args.network_name,
            volume_name=self.volume.name,
            labels=check_label,
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=ignored or None),
        )
        self.config = None
        if spec.reload:
            self.config = ConfigReload(
                f"{name}-config",
                service=spec.name,
                container_id=self.container.id,
                files=sensitive(spec, dict(spec.files)),
                port=spec.port,
                reload=spec.reload,
                docker_host=args.docker_host,
                checked=passed if self.check else None,
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.url = published_url(spec.published.ip, spec.published.host_port)
        self.register_outputs(
            {
                "url": self.url,
                "containerName": self.container.name,
                "volumeName": self.volume.name,
                "dataVolumeRetained": args.protect_volume,
            }
        )  # policy packs cannot see retain_on_delete


def _check_verdict(check: docker.Container, service: str, argv: Sequence[str]) -> pulumi.Output[str]:
    """The check container's verdict: "passed", or its failure as the update's error. The service's container and
    its delivery await it before they are registered, but it is recorded as a dependency of neither.

    Containers are replaced delete-first (pulumi-docker), and the engine deletes a delete-first replacement's
    dependents before it: a recorded dependency would remove the running service before the new check runs. So the
    verdict is an Output made from a plain awaitable (Output.from_input), which carries no resource; it is unknown
    while the check's result is (at a preview, before the check runs again).
    """
    verdict: asyncio.Future = asyncio.get_event_loop().create_future()

    def settle(result: list) -> None:
        if pulumi.contains_unknowns(result):
            verdict.set_result(pulumi.UNKNOWN)
            return
        try:
            verdict.set_result(_check_passed(service, argv, *result))
        except pulumi.RunError as error:
            verdict.set_exception(error)

    outputs = pulumi.Output.all(check.exit_code, pulumi.Output.unsecret(check.container_logs))
    outputs.apply(settle, run_with_unknowns=True)
    return pulumi.Output.from_input(verdict)


def _check_passed(service: str, check: Sequence[str], exit_code: int | None, output: str | None) -> str:
    if exit_code != 0:
        raise pulumi.RunError(
            f"{service}: the new configuration fails `{' '.join(check)}` (exit code {exit_code}), so the running "
            f"container is left as it is:\n{(output or '').strip()}"
        )
    return "passed"
