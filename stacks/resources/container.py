"""The one place a ContainerSpec (stacks/render/spec.py) becomes a docker.Container: a service's, an agent's or an
exporter's alike."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_docker as docker

from stacks.layout import HEALTHCHECK, LOG_OPTIONS, STOP_GRACE_SECONDS, compose_labels
from stacks.render.spec import ContainerSpec


def docker_container(
    resource_name: str,
    spec: ContainerSpec,
    *,
    name_prefix: str,
    network_name: pulumi.Input[str] | None = None,
    volume_name: pulumi.Input[str] | None = None,
    labels: Sequence[docker.ContainerLabelArgs] = (),
    opts: pulumi.ResourceOptions,
) -> docker.Container:
    """The container `spec` describes: on `network_name` (a spec `on_network`), its state on the volume
    `volume_name` (a spec with a `data_path`), with the compose labels, the spec's and `labels` (what only Pulumi
    knows, such as a check's verdict). `opts`: the parent, provider and ignore_changes."""
    secret = pulumi.Output.secret if spec.secret else (lambda value: value)
    mounts = [
        *([docker.ContainerVolumeArgs(volume_name=volume_name, container_path=spec.data_path)] if volume_name else []),
        *(
            docker.ContainerVolumeArgs(host_path=host, container_path=inside, read_only=True)
            for host, inside in spec.host_binds
        ),
    ]
    every_label = {**compose_labels(name_prefix, spec.name), **spec.labels}
    return docker.Container(
        resource_name,
        name=spec.container_name,
        image=spec.image,
        command=list(spec.command) or None,
        envs=secret(list(spec.envs)) if spec.envs else None,
        user=spec.user,
        group_adds=list(spec.group_adds) or None,
        restart="unless-stopped",
        uploads=upload_args(spec),
        volumes=mounts or None,
        ports=[docker.ContainerPortArgs(internal=p.port, external=p.host_port, ip=p.ip) for p in [spec.published]]
        if spec.published
        else None,
        networks_advanced=[docker.ContainerNetworksAdvancedArgs(name=network_name, aliases=[spec.name])]
        if spec.on_network
        else None,
        network_mode="host" if spec.host_network else None,
        pid_mode="host" if spec.host_pid else None,
        devices=[docker.ContainerDeviceArgs(host_path=d, container_path=d) for d in spec.devices] or None,
        hosts=[docker.ContainerHostArgs(host="host.docker.internal", ip="host-gateway")]
        if spec.add_host_gateway
        else None,
        healthcheck=docker.ContainerHealthcheckArgs(tests=list(spec.healthcheck), **HEALTHCHECK)
        if spec.healthcheck
        else None,
        labels=[*(docker.ContainerLabelArgs(label=k, value=v) for k, v in every_label.items()), *labels],
        log_driver="json-file",
        log_opts=LOG_OPTIONS,
        # Without a healthcheck there is nothing to wait for but the start.
        wait=True if spec.healthcheck else None,
        wait_timeout=spec.wait_timeout if spec.healthcheck else None,
        destroy_grace_seconds=STOP_GRACE_SECONDS,  # `pulumi up` replacing it, `pulumi destroy`
        stop_timeout=STOP_GRACE_SECONDS,  # `docker stop`, a daemon shutdown
        # A fixed name (and a fixed host port, or one in the host's network): the old container goes first.
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(delete_before_replace=True)),
    )


def upload_args(spec: ContainerSpec) -> list[docker.ContainerUploadArgs]:
    """The spec's files, uploaded before the container starts (secrets when the spec holds any)."""
    secret = pulumi.Output.secret if spec.secret else (lambda value: value)
    return [docker.ContainerUploadArgs(file=path, content=secret(text)) for path, text in spec.files.items()]
