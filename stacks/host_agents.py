"""HostAgents: the agents of one watched Docker host, through a Docker provider of its own.

Each host's resources hang off its own provider, so a host that cannot be reached fails only its own agents'
steps (the provider's error names its daemon and the resources name the host), and removing a host from
`hosts` deletes only its agents.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_docker as docker

from stacks.layout import HEALTHCHECK, LOG_OPTIONS, STOP_GRACE_SECONDS
from stacks.render.agents import AgentSpec
from stacks.settings import HostSettings

HOST_LABEL = "monitoring.host"
"""On every agent container and volume: the host's name as `hosts` gives it."""


class HostAgents(pulumi.ComponentResource):
    """Attributes: `provider` (docker.Provider of the host's daemon), `containers` (agent -> docker.Container),
    `volumes` (agent -> docker.Volume, for the agents that keep state)."""

    def __init__(
        self,
        name: str,
        host: HostSettings,
        specs: Sequence[AgentSpec],
        name_prefix: str,
        retain_volumes: bool = False,
        opts: pulumi.ResourceOptions | None = None,
    ):
        """`retain_volumes`: keep an agent's volume on its host when Pulumi deletes it (protectVolumes)."""
        super().__init__("monitoring:index:HostAgents", name, None, opts)
        self.provider = docker.Provider(
            f"{name}-docker", host=host.docker_host or None, opts=pulumi.ResourceOptions(parent=self)
        )
        child = pulumi.ResourceOptions(parent=self, provider=self.provider)
        self.containers: dict[str, docker.Container] = {}
        self.volumes: dict[str, docker.Volume] = {}
        for spec in specs:
            labels = {
                "com.docker.compose.project": name_prefix,
                "com.docker.compose.service": spec.name,
                HOST_LABEL: host.name,
            }
            mounts = [
                docker.ContainerVolumeArgs(host_path=path, container_path=inside, read_only=True)
                for path, inside in spec.host_binds
            ]
            if spec.data_path:
                self.volumes[spec.name] = docker.Volume(
                    f"{name}-{spec.name}-data",
                    name=f"{name_prefix}-{host.name}-{spec.name}-data",
                    labels=[docker.VolumeLabelArgs(label=k, value=v) for k, v in labels.items()],
                    opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(retain_on_delete=retain_volumes)),
                )
                mounts.append(
                    docker.ContainerVolumeArgs(volume_name=self.volumes[spec.name].name, container_path=spec.data_path)
                )
            self.containers[spec.name] = docker.Container(
                f"{name}-{spec.name}",
                name=f"{name_prefix}-{host.name}-{spec.name}",
                image=spec.image,
                command=list(spec.command),
                user=spec.user,
                network_mode="host" if spec.host_network else None,
                pid_mode="host" if spec.host_pid else None,
                devices=[docker.ContainerDeviceArgs(host_path=d, container_path=d) for d in spec.devices] or None,
                hosts=[docker.ContainerHostArgs(host="host.docker.internal", ip="host-gateway")]
                if spec.add_host_gateway
                else None,
                uploads=[docker.ContainerUploadArgs(file=path, content=text) for path, text in spec.files.items()]
                or None,
                volumes=mounts,
                restart="unless-stopped",
                healthcheck=docker.ContainerHealthcheckArgs(tests=list(spec.healthcheck), **HEALTHCHECK),
                labels=[docker.ContainerLabelArgs(label=k, value=v) for k, v in labels.items()],
                log_driver="json-file",
                log_opts=LOG_OPTIONS,
                wait=True,
                wait_timeout=120,
                destroy_grace_seconds=STOP_GRACE_SECONDS,
                stop_timeout=STOP_GRACE_SECONDS,
                # A fixed name (and, in the host's network, a fixed port): the old container goes first.
                opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(delete_before_replace=True)),
            )
        self.register_outputs(
            {
                "host": host.name,
                "containerNames": {agent: c.name for agent, c in self.containers.items()},
                "dataVolumeRetained": retain_volumes,  # policy packs cannot see retain_on_delete
            }
        )
