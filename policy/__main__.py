"""The monitoring stack's policy pack (Pulumi CrossGuard), started by the CLI for

    pulumi preview --policy-pack policy --policy-pack-config policy/config/<stack>.json

The CLI runs `python policy <engine address>` in policy/.venv through the Python language host; this
prints the port of the analyzer it serves. The policies live in policies/, one module each, listed in
policies.POLICIES; this file only wires them into pulumi_policy. Without a config file every policy is mandatory.
"""

from __future__ import annotations

from typing import Any

from policies import POLICIES, PolicySpec, Resource
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyPack,
    ResourceValidationPolicy,
    StackValidationPolicy,
)


def _resource(args: Any, parent: Resource | None = None) -> Resource:
    return Resource(type=args.resource_type, name=args.name, props=args.props, urn=args.urn, parent=parent)


def _resource_policy(spec: PolicySpec) -> ResourceValidationPolicy:
    def validate(args, report_violation):
        for message in spec.check(_resource(args), args.get_config()):
            report_violation(message)

    return ResourceValidationPolicy(
        name=spec.name, description=spec.description, validate=validate, config_schema=_schema(spec)
    )


def _stack_policy(spec: PolicySpec) -> StackValidationPolicy:
    def validate(args, report_violation):
        # Parents first, so that each resource can carry its parent's view.
        views: dict[str, Resource] = {}

        def view(r):
            if r.urn not in views:
                views[r.urn] = _resource(r, parent=view(r.parent) if r.parent is not None else None)
            return views[r.urn]

        for violation in spec.check([view(r) for r in args.resources], args.get_config()):
            report_violation(violation.message, violation.urn or None)

    return StackValidationPolicy(
        name=spec.name, description=spec.description, validate=validate, config_schema=_schema(spec)
    )


def _schema(spec: PolicySpec) -> PolicyConfigSchema | None:
    return PolicyConfigSchema(properties=spec.config_schema) if spec.config_schema else None


PolicyPack(
    name="monitoring-policies",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[_stack_policy(spec) if spec.stack else _resource_policy(spec) for spec in POLICIES],
)
