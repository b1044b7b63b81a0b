"""operator-objects-selected: a Kubernetes stack's Prometheus Operator objects carry the labels its operator
selects on, so that none is ignored."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._shared import PolicySpec, Resource

# The Prometheus Operator's objects a Kubernetes stack registers.
OPERATOR_OBJECTS = {
    "kubernetes:monitoring.coreos.com/v1:PrometheusRule": "PrometheusRule",
    "kubernetes:monitoring.coreos.com/v1:ServiceMonitor": "ServiceMonitor",
    "kubernetes:monitoring.coreos.com/v1:PodMonitor": "PodMonitor",
    "kubernetes:monitoring.coreos.com/v1alpha1:AlertmanagerConfig": "AlertmanagerConfig",
}


def operator_objects_selected(resource: Resource, config: Mapping[str, Any]) -> list[str]:
    """Each object carries labels, and the ones the stack's policy config says its operator selects on."""
    kind = OPERATOR_OBJECTS.get(resource.type)
    if kind is None:
        return []
    metadata = resource.props.get("metadata") or {}
    labels = dict(metadata.get("labels") or {})
    wanted = dict((config.get("labels") or {}).get(kind) or {})
    name = metadata.get("name") or resource.name
    missing = sorted(f"{k}={v}" for k, v in wanted.items() if labels.get(k) != v)
    if missing:
        return [
            f"{kind} {name} lacks {', '.join(missing)}, which the operator's selector matches, so it would be "
            "ignored: set them in kubernetes (ruleLabels, monitorLabels, alertmanagerConfigLabels) in "
            "Pulumi.<stack>.yaml."
        ]
    selecting = {k: v for k, v in labels.items() if not k.startswith("app.kubernetes.io/")}
    if not selecting:
        return [
            f"{kind} {name} carries no label an operator's selector could match: set kubernetes.ruleLabels, "
            "monitorLabels or alertmanagerConfigLabels in Pulumi.<stack>.yaml."
        ]
    return []


POLICY = PolicySpec(
    "operator-objects-selected",
    "PrometheusRules, monitors and AlertmanagerConfigs carry the labels the operator selects.",
    operator_objects_selected,
    {"labels": {"type": "object", "default": {}}},
)
