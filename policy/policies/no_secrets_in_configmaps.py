"""no-secrets-in-configmaps: a Kubernetes stack's ConfigMaps (its dashboards') hold no credential."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ._shared import PolicySpec, Resource

CONFIGMAP = "kubernetes:core/v1:ConfigMap"


# What gives a credential away in a ConfigMap's text: a URL with a password, a Slack webhook, a bearer token, a
# key or password field with a value. Dashboards hold none; routing secrets go into a Secret.
_CREDENTIAL = re.compile(
    r"://[^/\s:@]+:[^/\s@]+@"
    r"|hooks\.slack\.com/services/"
    r"|\bBearer\s+[A-Za-z0-9._~+/-]{16,}"
    r"|\"(password|api_?key|token|secret|routing_?key|service_?key)\"\s*:\s*\"[^\"$]+\"",
    re.IGNORECASE,
)


def no_secrets_in_configmaps(resource: Resource, config: Mapping[str, Any]) -> list[str]:
    if resource.type != CONFIGMAP:
        return []
    name = (resource.props.get("metadata") or {}).get("name") or resource.name
    return [
        f"ConfigMap {name}: data.{key} holds what looks like a credential, and a ConfigMap is stored and shown in "
        "plain text: move it into a Secret (as the AlertmanagerConfig's receivers are)."
        for key, value in sorted((resource.props.get("data") or {}).items())
        if isinstance(value, str) and _CREDENTIAL.search(value)
    ]


POLICY = PolicySpec(
    "no-secrets-in-configmaps",
    "No password, key or webhook URL sits in a plain ConfigMap.",
    no_secrets_in_configmaps,
)
