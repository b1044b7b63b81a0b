"""HostAgents: the agents of one watched Docker host, through a Docker provider of its own.

Each host's resources hang off its own provider, so a host that cannot be reached fails only its own agents'
steps (the provider's error names its daemon and the resources name the host), and removing a host from
`hosts` deletes only its agents.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_docker as docker

from stacks.config.settings import HostSettings
from stacks.render.spec import ContainerSpec
from stacks.resources.container import data_volume, docker_container


class HostAgents(pulumi.ComponentResource):
    """Attributes: `provider` (docker.Provider of the host's daemon), `containers` (agent -> docker.Container),
    `volumes` (agent -> docker.Volume, for the agents that keep state)."""

    def __init__(
        self,
        name: str,
        host: HostSettings,
        specs: Sequence[ContainerSpec],
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
            volume_name = None
            if spec.data_path:
                self.volumes[spec.name] = data_volume(
                    f"{name}-{spec.name}-data", spec, name_prefix=name_prefix, retain=retain_volumes, opts=child
                )
                volume_name = self.volumes[spec.name].name
            self.containers[spec.name] = docker_container(
                f"{name}-{spec.name}", spec, name_prefix=name_prefix, volume_name=volume_name, opts=child
            )
        self.register_outputs(
            {
                "host": host.name,
                "containerNames": {agent: c.name for agent, c in self.containers.items()},
                "dataVolumeRetained": retain_volumes,  # policy packs cannot see retain_on_delete
            }
        )
