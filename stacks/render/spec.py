"""One container of the stack, as Docker runs it: a service's (stacks/render/<service>.py), a host agent's
(stacks/render/agents.py) or a datastore exporter's (stacks/render/exporters.py). The Pulumi program builds its
docker.Container from it (stacks/resources/container.py) and the compose peer its service (stacks/render/compose.py),
so image, ports, labels and healthcheck cannot drift between the two."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from stacks.layout import Service, healthcheck_command
from stacks.render.credentials import holds_credentials

if TYPE_CHECKING:
    from stacks.config.settings import StackSettings


@dataclass(frozen=True)
class ReloadSpec:
    """How a server says it reloaded its files in place (POST /-/reload): its own metrics, and its log line when it
    refuses them (stacks/reload.py)."""

    success_metric: str
    """1 when the last reload succeeded, 0 when it failed (e.g. prometheus_config_last_reload_successful)."""
    timestamp_metric: str
    """Unix time of the last successful reload."""
    failure_log: str
    """The message the server logs when a reload fails."""


@dataclass(frozen=True)
class Published:
    """A port published on the Docker host."""

    ip: str
    """The host address it binds to."""
    host_port: int
    port: int
    """The container's port."""


@dataclass(frozen=True)
class ContainerSpec:
    """One container: what it runs, with what, where it is reached, and how it is known to be healthy."""

    name: str
    """Its compose service: the `com.docker.compose.service` label (the `service` log label) and, on the stack
    network, its DNS alias."""
    container_name: str
    """The container's name on its Docker host."""
    image: str
    command: Sequence[str] = ()
    files: Mapping[str, str] = field(default_factory=dict)
    """Container path -> content, uploaded before start."""
    envs: Sequence[str] = ()
    secret: bool = False
    """The files and environment hold secrets its renderer knows of (receiver URLs, passwords, connection URIs)."""
    host_binds: Sequence[tuple[str, str]] = ()
    """(host path, container path), read-only."""
    data_path: str = ""
    """Where it keeps its state, on a named volume of its own; empty: no state."""
    user: str | None = None
    group_adds: Sequence[str] = ()
    """Supplementary groups (numeric ids) of the image's user."""
    port: int | None = None
    """The port it listens on inside the container (none for one in the host's network)."""
    published: Published | None = None
    on_network: bool = False
    """It joins the stack network under its name; else it runs in the host's network (`host_network`)."""
    host_network: bool = False
    host_pid: bool = False
    devices: Sequence[str] = ()
    add_host_gateway: bool = False
    """host.docker.internal -> the daemon's gateway, in the container's /etc/hosts."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels besides the compose project and service."""
    healthcheck: Sequence[str] = ()
    """The healthcheck's command; empty for an image with nothing to run one (FROM scratch): then `pulumi up`
    waits for it to run, not to be healthy."""
    wait_timeout: int = 180
    """Seconds `pulumi up` waits for it to become healthy."""
    after: Sequence[str] = ()
    """Services this one starts after (their containers healthy first)."""
    check: Sequence[str] = ()
    """The image's own check of the files (argv, the executable first), run in a container of its own before the
    files reach the server (delivered, or in a new container): a configuration it would refuse never takes it
    down."""
    reload: ReloadSpec | None = None
    """How the server takes new files without a restart: then a change of the files is delivered into the running
    container (stacks/reload.py); without it, the container is replaced."""

    @cached_property  # read for the envs, each upload and the delivered files: parse the files once
    def sends_secrets(self) -> bool:
        """Its files and environment go to the engine as Pulumi secrets: declared so, or holding a credential."""
        return self.secret or holds_credentials(self.files, self.envs)

    @property
    def volume_name(self) -> str:
        """The name of its data volume (a spec with a `data_path`) on its Docker host."""
        return f"{self.container_name}-data"


def service_spec(service: Service, settings: StackSettings, **specific) -> ContainerSpec:
    """A service's container: what every service shares from the layout and the settings (its name, image, data
    volume, published port, healthcheck, the stack network), and what is its own (`specific`)."""
    return ContainerSpec(
        name=service.name,
        container_name=f"{settings.name_prefix}-{service.name}",
        image=settings.images[service.name],
        data_path=service.data_path,
        port=service.port,
        published=Published(settings.bind_address, settings.ports[service.name], service.port),
        on_network=True,
        add_host_gateway=service.host_gateway,
        healthcheck=healthcheck_command(service),
        **specific,
    )
