"""images-pinned: a container's image and a pulled image name a version (a tag other than latest, or a digest)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._shared import CONTAINER, PolicySpec, Resource

REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage"


def image_pin_problem(reference: str) -> str | None:
    """Why an image reference is not pinned to a version, or None when it is (a tag other than latest,
    a digest, or an image id)."""
    if not reference.strip():
        return "is empty"
    if "@" in reference or reference.startswith("sha256:"):
        return None
    last = reference.rsplit("/", 1)[-1]  # a registry host may carry a port: registry:5000/grafana
    if ":" not in last:
        return "has no tag, so Docker uses 'latest'"
    if last.split(":", 1)[1].lower() == "latest":
        return "uses the tag 'latest'"
    return None


def images_pinned(resource: Resource, config: Mapping[str, Any]) -> list[str]:
    prop = {CONTAINER: "image", REMOTE_IMAGE: "name"}.get(resource.type)
    if prop is None:
        return []
    reference = resource.props.get(prop) or ""
    problem = image_pin_problem(reference)
    if problem is None:
        return []
    return [
        f"{prop} '{reference}' {problem}: pin a version tag or a digest (e.g. grafana/grafana:10.4.2) "
        "in stacks/versions.py."
    ]


POLICY = PolicySpec(
    "images-pinned", "Container images are pinned to a version (no 'latest', no missing tag).", images_pinned
)
