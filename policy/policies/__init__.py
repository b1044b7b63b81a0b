"""The pack's policies, one module each, and the one registry `policy/__main__.py` serves.

Each module holds one policy: its check (a pure function of a `Resource`, or of every resource for a stack
policy, and the policy's config, returning violation messages), its helpers, and `POLICY`, the `PolicySpec`
that names and describes it. Shared readings live in `_shared.py`. Messages name the property (never a
secret's value) and say what to change in this project.

To add a policy: a module here named after it (`my_policy.py` for `my-policy`) with its `POLICY`, and one
entry in `POLICIES` below (tests/program/test_policy.py checks that every module has exactly one).
"""

from __future__ import annotations

from . import (
    data_volumes_retained,
    grafana_admin_password,
    grafana_no_anonymous_or_signup,
    images_pinned,
    no_secrets_in_configmaps,
    operator_objects_selected,
    ports_bind_loopback,
    retention_bounds,
)
from ._shared import PolicySpec, Resource, Violation

# In the order the pack serves them (and so reports their violations).
POLICIES: tuple[PolicySpec, ...] = (
    images_pinned.POLICY,
    grafana_admin_password.POLICY,
    ports_bind_loopback.POLICY,
    data_volumes_retained.POLICY,
    retention_bounds.POLICY,
    grafana_no_anonymous_or_signup.POLICY,
    operator_objects_selected.POLICY,
    no_secrets_in_configmaps.POLICY,
)

__all__ = ["POLICIES", "PolicySpec", "Resource", "Violation"]
