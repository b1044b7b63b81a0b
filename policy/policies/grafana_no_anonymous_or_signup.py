"""grafana-no-anonymous-or-signup: the Grafana container turns anonymous access and sign-up off explicitly."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._shared import PolicySpec, Resource, container_env, is_grafana

GRAFANA_OFF_SWITCHES = {
    "GF_AUTH_ANONYMOUS_ENABLED": "anonymous users could read every dashboard",
    "GF_USERS_ALLOW_SIGN_UP": "anyone who reaches Grafana could create an account",
}


def grafana_no_anonymous_or_signup(resource: Resource, config: Mapping[str, Any]) -> list[str]:
    if not is_grafana(resource):
        return []
    env = container_env(resource)
    problems = []
    for name, risk in GRAFANA_OFF_SWITCHES.items():
        if name not in env:
            problems.append(
                f"{name} is not set: set it to false explicitly (stacks/render/grafana.py), so that no "
                f"grafana.ini in the image can turn it on ({risk})."
            )
        elif env[name].strip().lower() != "false":
            problems.append(f"{name} is '{env[name]}': set it to false (stacks/render/grafana.py); {risk}.")
    return problems


POLICY = PolicySpec(
    "grafana-no-anonymous-or-signup",
    "Grafana anonymous access and sign-up are off.",
    grafana_no_anonymous_or_signup,
)
