"""What every service component shares: its data volume and its container.

A service component is a ComponentResource with two children, `<name>-data` (a named volume) and
`<name>-container`. Configuration files are uploaded into the container, so changing one replaces
that container only; the volume is a separate resource and is never replaced by a config change.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import pulumi
import pulumi_docker as docker

from stacks.layout import HEALTHCHECK, LOG_OPTIONS, Service, healthcheck_command, published_url
from stacks.render.containers import ContainerSpec


@dataclass(frozen=True)
class ServiceArgs:
    """What a service container takes from the stack. Defaults suit a single local Docker host."""

    image: str
    """Pinned image reference (stacks/versions.py)."""
    network_name: pulumi.Input[str]
    """The stack's Docker network; the container joins it under the service name."""
    name_prefix: str
    """Prefix of the container and volume names, unique per stack on a Docker host."""
    host_port: int
    """Host port the service's port is published on."""
    bind_address: str = "127.0.0.1"
    """Host address the port binds to."""
    protect_volume: bool = False
    """Keep the data volume on the Docker host when Pulumi deletes or replaces it (prod)."""
    wait_timeout: int = 180
    """Seconds `pulumi up` waits for the container to become healthy."""
    host_gateway: bool = False
    """Add host.docker.internal -> the Docker host (for targets and receivers on the host)."""


def child_name(prefix: str, service: Service, role: str) -> str:
    return f"{prefix}-{service.name}" + (f"-{role}" if role else "")


class ServiceComponent(pulumi.ComponentResource):
    """Base of the service components: one data volume and one healthy container, as its ContainerSpec says.

    Attributes: `volume` (docker.Volume), `container` (docker.Container), `url` (str, the published URL).
    """

    volume: docker.Volume
    container: docker.Container
    url: str

    def __init__(
        self,
        type_name: str,
        name: str,
        args: ServiceArgs,
        spec: ContainerSpec,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__(type_name, name, None, opts)
        service = spec.service
        labels = {
            # Compose-style labels: Promtail turns the service label into the `service` log label.
            "com.docker.compose.project": args.name_prefix,
            "com.docker.compose.service": service.name,
        }
        self.volume = docker.Volume(
            f"{name}-data",
            name=child_name(args.name_prefix, service, "data"),
            labels=[docker.VolumeLabelArgs(label=k, value=v) for k, v in labels.items()],
            # Retained, not `protect`ed: `pulumi destroy` then removes the containers and the network and
            # leaves the data on the Docker host (with `protect`, destroy keeps everything that depends on it).
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=args.protect_volume),
        )
        secret = pulumi.Output.secret if spec.secret else (lambda value: value)
        self.container = docker.Container(
            f"{name}-container",
            name=child_name(args.name_prefix, service, ""),
            image=args.image,
            command=list(spec.command) or None,
            envs=secret(list(spec.envs)) if spec.envs else None,
            user=spec.user,
            group_adds=list(spec.group_adds) or None,
            restart="unless-stopped",
            uploads=[docker.ContainerUploadArgs(file=path, content=secret(text)) for path, text in spec.files.items()],
            volumes=[
                docker.ContainerVolumeArgs(volume_name=self.volume.name, container_path=service.data_path),
                *(
                    docker.ContainerVolumeArgs(host_path=host, container_path=inside, read_only=True)
                    for host, inside in spec.host_binds
                ),
            ],
            ports=[docker.ContainerPortArgs(internal=service.port, external=args.host_port, ip=args.bind_address)],
            networks_advanced=[docker.ContainerNetworksAdvancedArgs(name=args.network_name, aliases=[service.name])],
            hosts=[docker.ContainerHostArgs(host="host.docker.internal", ip="host-gateway")]
            if args.host_gateway
            else None,
            healthcheck=docker.ContainerHealthcheckArgs(
                tests=healthcheck_command(service),
                **HEALTHCHECK,
            ),
            labels=[docker.ContainerLabelArgs(label=k, value=v) for k, v in labels.items()],
            log_driver="json-file",
            log_opts=LOG_OPTIONS,
            wait=True,
            wait_timeout=args.wait_timeout,
            # Fixed container name and host port: the old container must go before the new one starts.
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
        )
        self.url = published_url(args.bind_address, args.host_port)
        self.register_outputs(
            {
                "url": self.url,
                "containerName": self.container.name,
                "volumeName": self.volume.name,
                "dataVolumeRetained": args.protect_volume,
            }
        )  # policy packs cannot see retain_on_delete


def component_class(service: str) -> type[ServiceComponent]:
    """The component of a service: the one ServiceComponent subclass that stacks/<service>.py defines."""
    module = importlib.import_module(f"stacks.{service}")
    classes = [
        value
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, ServiceComponent) and value.__module__ == module.__name__
    ]
    if len(classes) != 1:
        raise TypeError(f"stacks/{service}.py must define one ServiceComponent subclass, found {len(classes)}")
    return classes[0]
