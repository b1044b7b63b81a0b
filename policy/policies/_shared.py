"""What every policy module shares: the resource a check sees, what a check reports, how a policy is declared,
and the container and Grafana readings more than one policy makes.

Nothing here imports pulumi_policy (tests import these modules from the program's .venv, where it is not
installed): `policy/__main__.py` wires each `PolicySpec` into pulumi_policy. `props` may be pulumi_policy's
proxies (read lazily, so an unknown value only stops the checks that need it) or plain dicts and lists.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

CONTAINER = "docker:index/container:Container"


@dataclass(frozen=True)
class Resource:
    type: str
    name: str
    props: Mapping[str, Any]
    """Inputs as the engine sent them, secrets unwrapped: pulumi_policy hands a policy no mark of which were secrets
    (pulumi/pulumi-policy#241), so the program itself sends credentials as secrets (stacks/render/credentials.py)."""
    urn: str = ""
    parent: Resource | None = None


@dataclass(frozen=True)
class Violation:
    message: str
    urn: str = ""
    """Which resource a stack policy's violation is about (empty: the resource being checked)."""


@dataclass(frozen=True)
class PolicySpec:
    """A policy as the pack serves it: `check(resource, config) -> [message]`, or for a stack policy
    `check([resource], config) -> [Violation]`."""

    name: str
    description: str
    check: Any
    config_schema: dict = field(default_factory=dict)
    stack: bool = False


def as_list(value: Any) -> list:
    """A list or list proxy's items; nothing for anything else (a string is not a list here)."""
    return list(value) if isinstance(value, Sequence) and not isinstance(value, (str, bytes)) else []


def image_name(reference: str) -> str:
    """grafana/grafana:10.0.0 -> grafana; registry:5000/prom/prometheus@sha256:... -> prometheus."""
    last = reference.split("@", 1)[0].rsplit("/", 1)[-1]
    return last.split(":", 1)[0]


# --- the Grafana container (grafana-admin-password, grafana-no-anonymous-or-signup) -------------------------

GRAFANA_IMAGES = frozenset({"grafana", "grafana-oss", "grafana-enterprise"})


def container_env(resource: Resource) -> dict[str, str]:
    """NAME -> value of a container's environment."""
    return dict(str(entry).partition("=")[::2] for entry in as_list(resource.props.get("envs")))


def is_grafana(resource: Resource) -> bool:
    if resource.type != CONTAINER:
        return False
    if image_name(resource.props.get("image") or "") in GRAFANA_IMAGES:
        return True
    return any(name.startswith("GF_") for name in container_env(resource))
