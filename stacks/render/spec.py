"""What a service's container runs with: command, configuration files, environment, host mounts, user; and, for a
server that reloads, how it says it did. Each service's renderer returns one (its `container_spec`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from stacks.layout import Service


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
class ContainerSpec:
    """The service-specific part of a container."""

    service: Service
    command: Sequence[str] = ()
    files: Mapping[str, str] = field(default_factory=dict)
    """Container path -> content, uploaded before start."""
    envs: Sequence[str] = ()
    host_binds: Sequence[tuple[str, str]] = ()
    """(host path, container path), read-only."""
    user: str | None = None
    group_adds: Sequence[str] = ()
    """Supplementary groups (numeric ids) of the image's user."""
    secret: bool = False
    """The files and environment hold secrets (receiver URLs, the admin password): sent as Pulumi secrets."""
    after: Sequence[str] = ()
    """Services this one starts after (their containers healthy first)."""
    check: Sequence[str] = ()
    """The image's own check of the files (argv, the executable first), run in a container of its own before the
    files reach the server (delivered, or in a new container): a configuration it would refuse never takes it
    down."""
    reload: ReloadSpec | None = None
    """How the server takes new files without a restart: then a change of the files is delivered into the running
    container (stacks/reload.py); without it, the container is replaced."""
