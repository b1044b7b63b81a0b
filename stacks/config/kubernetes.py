"""A Kubernetes target (the `kubernetes` key), validated: the content goes to an existing Prometheus Operator
(kube-prometheus-stack) as its custom resources instead of containers on Docker.

    kubernetes:
      context: prod-cluster            # kubeconfig context; empty: the current one
      namespace: monitoring            # required: where every object goes
      ruleLabels: {release: kube-prometheus-stack}      # what the Prometheus' ruleSelector matches
      monitorLabels: {release: kube-prometheus-stack}   # what its serviceMonitorSelector/podMonitorSelector match
      alertmanagerConfigLabels: {alertmanagerConfig: monitoring}  # its Alertmanager's alertmanagerConfigSelector
      grafana: configmaps              # or provider: the Grafana provider into the cluster's Grafana
      dashboardLabels: {grafana_dashboard: "1"}         # what the Grafana sidecar watches (configmaps)
      monitors: [{job, kind: service|pod, selector: {app: api}, port: http, path: /metrics}]
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from stacks.config.settings import KubernetesSettings, Monitor
from stacks.errors import Problems
from stacks.layout import JOB_NAME
from stacks.reader import Reader

_KEYS = (
    "alertmanagerConfigLabels",
    "context",
    "dashboardLabels",
    "grafana",
    "monitorLabels",
    "monitors",
    "namespace",
    "ruleLabels",
)
_MONITOR_KEYS = ("job", "kind", "namespaces", "path", "port", "selector")
# Kubernetes names and labels (k8s.io/apimachinery/pkg/util/validation): a DNS-1123 label for a namespace; a
# label key is an optional DNS-1123 subdomain prefix and a name of at most 63 characters; a value at most 63.
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_LABEL_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_PORT_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_PATH = re.compile(r"/\S*")
GRAFANA_MODES = ("configmaps", "provider")
# kube-prometheus-stack's defaults: its Prometheus selects rules and monitors labelled with the Helm release,
# and its Grafana sidecar loads ConfigMaps labelled grafana_dashboard="1".
DEFAULT_RELEASE_LABELS = {"release": "kube-prometheus-stack"}
DEFAULT_DASHBOARD_LABELS = {"grafana_dashboard": "1"}


def label_problem(key: Any, value: Any) -> str | None:
    """Why KEY=VALUE is not a valid Kubernetes label, or None."""
    if not isinstance(key, str) or not key:
        return f"label key {key!r} must be a non-empty string"
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.fullmatch(prefix)):
        return f"label key {key!r}: its prefix must be a DNS subdomain such as example.com"
    if len(name) > 63 or not _LABEL_NAME.fullmatch(name):
        return (
            f"label key {key!r}: its name must be at most 63 letters, digits, '-', '_' or '.', "
            "beginning and ending with a letter or digit"
        )
    if not isinstance(value, str):
        return f"label {key}: its value must be a string (quote numbers and booleans), got {value!r}"
    if value and (len(value) > 63 or not _LABEL_NAME.fullmatch(value)):
        return (
            f"label {key}: its value {value!r} must be at most 63 letters, digits, '-', '_' or '.', "
            "beginning and ending with a letter or digit"
        )
    return None


def _labels(r: Reader, key: str, default: Mapping[str, str], *, required: bool) -> dict[str, str]:
    labels = r.mapping(key, expected="a map of label names to values") if r.has(key) else dict(default)
    if required and not labels:
        r.add(key, "is required: the labels the operator's selector matches (an empty selector selects nothing here)")
    for name, value in labels.items():
        problem = label_problem(name, value)
        if problem:
            r.add(f"{key}.{name}", problem)
    return {str(k): str(v) for k, v in labels.items()}


def parse_kubernetes(value: Any, problems: Problems, *, scrape_jobs: set[str]) -> KubernetesSettings | None:
    """None when the stack targets Docker (no `kubernetes`); `scrape_jobs`: job names already taken."""
    if not value:
        return None
    r = Reader(value, "kubernetes", problems, _KEYS, expected="a map with namespace, ruleLabels, ...")
    if not r.valid:
        return None
    namespace = r.str(
        "namespace",
        required=True,
        pattern=_DNS_LABEL,
        expected="the namespace every object goes to (a DNS label such as 'monitoring')",
    )
    if namespace and len(namespace) > 63:
        r.add("namespace", f"must be at most 63 characters, got {len(namespace)}")
    grafana = r.str("grafana", "configmaps", expected=" or ".join(GRAFANA_MODES))
    if grafana not in GRAFANA_MODES:
        r.add("grafana", f"must be one of {', '.join(GRAFANA_MODES)}, got {grafana!r}")
    return KubernetesSettings(
        context=r.str("context", expected="a kubeconfig context"),
        namespace=namespace or "",
        rule_labels=_labels(r, "ruleLabels", DEFAULT_RELEASE_LABELS, required=True),
        monitor_labels=_labels(r, "monitorLabels", DEFAULT_RELEASE_LABELS, required=True),
        alertmanager_config_labels=_labels(r, "alertmanagerConfigLabels", {}, required=True),
        grafana=grafana,
        dashboard_labels=_labels(r, "dashboardLabels", DEFAULT_DASHBOARD_LABELS, required=grafana == "configmaps"),
        monitors=_monitors(r, set(scrape_jobs)),
    )


def _monitors(r: Reader, jobs: set[str]) -> tuple[Monitor, ...]:
    monitors = []
    for i, item in enumerate(r.list("monitors", expected="a list of monitors: {job, kind, selector, port}")):
        m = r.child(f"monitors[{i}]", item, _MONITOR_KEYS, expected="a monitor: {job, kind, selector, port}")
        if not m.valid:
            continue
        job = m.str("job", required=True, pattern=JOB_NAME, expected="a job name such as 'mindhit-api'")
        if job in jobs:
            m.add("job", f"job {job!r} is already scraped; job names must be unique")
        jobs.add(job)
        kind = m.str("kind", "service", expected="service or pod")
        if kind not in ("service", "pod"):
            m.add("kind", f"must be service (a ServiceMonitor) or pod (a PodMonitor), got {kind!r}")
        selector = _labels(m, "selector", {}, required=True)
        port = m.str("port", required=True, pattern=_PORT_NAME, expected="the name of the metrics port")
        path = m.str("path", "/metrics", pattern=_PATH, expected="a path starting with '/'")
        namespaces = m.list("namespaces", expected="a list of namespaces")
        for j, namespace in enumerate(namespaces):
            if not isinstance(namespace, str) or not _DNS_LABEL.fullmatch(namespace):
                m.add(f"namespaces[{j}]", f"must be a namespace name, got {namespace!r}")
        monitors.append(Monitor(job, kind, selector, port, path, tuple(str(n) for n in namespaces)))
    return tuple(monitors)
