"""grafana-admin-password: Grafana's admin password is set and is not a known default. (That it is sent as a secret
is the program's own guarantee: stacks/render/credentials.py.)"""

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
    if env[ADMIN_PASSWORD].strip().lower() in KNOWN_DEFAULT_PASSWORDS:
        return [
            f"{ADMIN_PASSWORD} is a known default ('admin', 'password' or empty): set another one with "
            "`pulumi config set --secret grafanaAdminPassword <password>`."
        ]
    return []


POLICY = PolicySpec(
    "grafana-admin-password",
    "Grafana's admin password is set and is not a known default.",
    grafana_admin_password,
)
