"""What the program reads from its environment, before anything is validated or registered: the stack's
config from the Pulumi runtime, the Docker socket's group (DOCKER_HOST and a stat of the socket), and the other
stack files of the project (which Grafana's notification policy tree each owns).
Everything else in stacks/ is a function of what these return."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pulumi.runtime import config as runtime_config

from stacks.config.schema import PROJECT_FILE
from stacks.config.settings import StackSettings
from stacks.errors import InputError
from stacks.layout import DOCKER_SOCKET
from stacks.syntax.yaml_io import parse_yaml


def read_config() -> tuple[dict[str, str], frozenset[str]]:
    """The stack's config as the engine gives it (or set_all_config under mocks), and which keys are secrets: what
    stacks/config/load.py `load_settings` validates."""
    raw = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    secret_keys = {key for key in raw if runtime_config.is_config_secret(key)}
    secret_keys |= set(runtime_config.get_config_secret_keys_env())
    return raw, frozenset(secret_keys)


def docker_socket_group(
    settings: StackSettings, environ: Mapping[str, str] = os.environ, socket: str = DOCKER_SOCKET
) -> str:
    """The group id Prometheus needs to read the Docker socket: the configured one, else the local socket's.

    The one impure step of app discovery (it reads DOCKER_HOST and stats the socket), run before any
    resource is registered. Raises InputError naming appDiscovery.dockerSocketGroup when it cannot know.
    """
    configured = settings.app_discovery.docker_socket_group
    if configured:
        return configured
    key = "appDiscovery.dockerSocketGroup"
    daemon = settings.docker_host or environ.get("DOCKER_HOST", "")
    if daemon not in ("", f"unix://{socket}"):
        raise InputError(
            [
                f"{key}: is required when the Docker daemon is not the local {socket} (it is {daemon!r}): "
                f"the group id of {DOCKER_SOCKET} on the Docker host (stat -c %g there), or appDiscovery.enabled false"
            ]
        )
    try:
        return str(os.stat(socket).st_gid)
    except OSError as error:
        raise InputError(
            [
                f"{key}: empty means the group of the local Docker socket {socket}, which cannot be read "
                f"({error.strerror}); set the group id, or appDiscovery.enabled false"
            ]
        ) from None


def check_policy_owner(settings: StackSettings, stack: str, project_dir: Path = PROJECT_FILE.parent) -> None:
    """Raises InputError naming grafana.ownNotificationPolicy when this stack asks to own an existing Grafana's
    notification policy tree and another stack file of the project already owns the tree of the same URL: an org
    has one tree, and two owners would replace each other's on every up."""
    if not (settings.external_grafana and settings.grafana_owns_policy):
        return
    url = settings.grafana_url.rstrip("/")
    for path in sorted(project_dir.glob("Pulumi.*.yaml")):
        if path.name == f"Pulumi.{stack}.yaml":
            continue
        grafana = ((parse_yaml(path.read_text()) or {}).get("config") or {}).get("monitoring:grafana") or {}
        if grafana.get("ownNotificationPolicy") is True and str(grafana.get("url", "")).rstrip("/") == url:
            raise InputError(
                [
                    f"grafana.ownNotificationPolicy: {path.name} owns the notification policy tree of {url} already: "
                    "an org has one tree, and two stacks owning it would replace each other's routes. Set it false "
                    f"here (this stack's contact points are pushed all the same), or in {path.name}"
                ]
            )
