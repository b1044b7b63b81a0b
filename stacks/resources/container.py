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
    mounts = [
        *([docker.ContainerVolumeArgs(volume_name=volume_name, container_path=spec.data_path)] if volume_name else []),
        *(
            docker.ContainerVolumeArgs(host_path=host, container_path=inside, read_only=True)
            for host, inside in spec.host_binds
        ),
    ]
    return docker.Container(
        resource_name,
        name=spec.container_name,
        image=spec.image,
        command=list(spec.command) or None,
        envs=sensitive(spec, list(spec.envs)) if spec.envs else None,
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
        labels=[
            *(docker.ContainerLabelArgs(label=k, value=v) for k, v in spec_labels(name_prefix, spec).items()),
            *labels,
        ],
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


def data_volume(
    resource_name: str, spec: ContainerSpec, *, name_prefix: str, retain: bool, opts: pulumi.ResourceOptions
) -> docker.Volume:
    """The named volume a spec with a `data_path` keeps its state on, labelled as its container. `retain`: left on
    the Docker host when Pulumi deletes it (not `protect`ed: `pulumi destroy` then removes the containers and the
    network and leaves the data, where with `protect` destroy keeps everything that depends on it)."""
    return docker.Volume(
        resource_name,
        name=spec.volume_name,
        labels=[docker.VolumeLabelArgs(label=k, value=v) for k, v in spec_labels(name_prefix, spec).items()],
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(retain_on_delete=retain)),
    )


def spec_labels(name_prefix: str, spec: ContainerSpec) -> dict[str, str]:
    """The labels of a spec's container and volume: the compose project and service, then the spec's own."""
    return {**compose_labels(name_prefix, spec.name), **spec.labels}


def sensitive(spec: ContainerSpec, value):
    """`value` as a Pulumi secret when the spec's files or environment hold any, else as it is."""
    return pulumi.Output.secret(value) if spec.sends_secrets else value


def upload_args(spec: ContainerSpec) -> list[docker.ContainerUploadArgs]:
    """The spec's files, uploaded before the container starts (secrets when the spec holds any)."""
    return [docker.ContainerUploadArgs(file=path, content=sensitive(spec, text)) for path, text in spec.files.items()]
