"""grafana-admin-password: Grafana's admin password is set, is not a known default, and is sent as a secret."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._shared import PolicySpec, Resource, container_env, is_grafana

ADMIN_PASSWORD = "GF_SECURITY_ADMIN_PASSWORD"
KNOWN_DEFAULT_PASSWORDS = frozenset({"", "admin", "password"})


def grafana_admin_password(resource: Resource, config: Mapping[str, Any]) -> list[str]:
    if not is_grafana(resource):
        return []
    env = container_env(resource)
    if ADMIN_PASSWORD not in env:
        return [
            f"{ADMIN_PASSWORD} is not set, so Grafana starts with admin/admin: set grafanaAdminPassword "
            "with `pulumi config set --secret grafanaAdminPassword <password>`."
        ]
    index, value = env[ADMIN_PASSWORD]
    problems = []
    if value.strip().lower() in KNOWN_DEFAULT_PASSWORDS:
        problems.append(
            f"{ADMIN_PASSWORD} is a known default ('admin', 'password' or empty): set another one with "
            "`pulumi config set --secret grafanaAdminPassword <password>`."
        )
    if not resource.is_secret(("envs", index)):
        problems.append(
            f"{ADMIN_PASSWORD} is in envs, which is not a Pulumi secret, so the password is stored in plain "
            "text: mark Grafana's container spec `secret` (stacks/render/grafana.py), which sends its environment as a "
            "Pulumi secret (stacks/resources/container.py)."
        )
    return problems


POLICY = PolicySpec(
    "grafana-admin-password",
    "Grafana's admin password is set, is not a known default and is a Pulumi secret.",
    grafana_admin_password,
)
