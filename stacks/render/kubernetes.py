"""The content as the Prometheus Operator's objects (a stack with `kubernetes`): pure functions of the settings and
the content, each returning the objects' specs (stacks/resources/kubernetes_stack.py registers them).

- one PrometheusRule per rule file (the generated SLO rules included), labelled for the Prometheus' ruleSelector;
- a ServiceMonitor or PodMonitor per `kubernetes.monitors` entry, and for app discovery a PodMonitor of the pods
  labelled monitoring.scrape="true" (the Docker contract's labels, stacks/outputs.py), each setting its job;
- one AlertmanagerConfig from the routing definition, its webhook URLs, keys and passwords in a Secret;
- the dashboards as ConfigMaps labelled for the Grafana sidecar (kubernetes.grafana configmaps).

AlertmanagerConfig routes are namespace-scoped: what the routing definition may not say for it is checked with the
settings (stacks/config/alerting.py `alertmanager_config_problems`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from stacks.config.settings import (
    EMAIL_FIELDS,
    PAGERDUTY_FIELDS,
    SLACK_FIELDS,
    Alerting,
    InhibitRule,
    KubernetesSettings,
    Matcher,
    Monitor,
    Receiver,
    StackSettings,
)
from stacks.content.model import Content
from stacks.outputs import LABELS
from stacks.render.alertmanager import route_tree, target_fields
from stacks.syntax.yaml_io import parse_yaml

API_VERSION = "monitoring.coreos.com/v1"
ALERTMANAGER_CONFIG_API_VERSION = "monitoring.coreos.com/v1alpha1"
CONFIGMAP_LIMIT = 1024 * 1024  # bytes: what the API server stores in one ConfigMap
FOLDER_ANNOTATION = "grafana_folder"  # kube-prometheus-stack's sidecar.dashboards.folderAnnotation
APPS_PORT = "metrics"  # the named container port the pods of app discovery serve /metrics on


@dataclass(frozen=True)
class KubeObject:
    """One object to register: kind, name (in the target namespace), labels, annotations and its body."""

    kind: str
    name: str
    labels: Mapping[str, str]
    body: Mapping
    """The spec (custom resources), or the data (ConfigMaps and Secrets)."""
    annotations: Mapping[str, str] | None = None


def object_name(prefix: str, *parts: str) -> str:
    """A DNS-1123 name: prefix-part-part, lower case, at most 253 characters."""
    text = "-".join([prefix, *parts]).lower()
    return re.sub(r"[^a-z0-9.-]+", "-", text).strip("-.")[:253]


def prometheus_rules(settings: StackSettings, content: Content) -> list[KubeObject]:
    k8s = _k8s(settings)
    return [
        KubeObject(
            "PrometheusRule",
            object_name(settings.name_prefix, rule_file.name.rsplit(".", 1)[0]),
            dict(k8s.rule_labels),
            {"groups": parse_yaml(rule_file.text)["groups"]},
        )
        for rule_file in content.rule_files
    ]


def monitors(settings: StackSettings) -> list[KubeObject]:
    k8s = _k8s(settings)
    found = [_monitor(settings.name_prefix, k8s, monitor) for monitor in k8s.monitors]
    if settings.app_discovery.enabled:
        found.append(_apps_monitor(settings.name_prefix, k8s))
    return found


def _monitor(prefix: str, k8s: KubernetesSettings, monitor: Monitor) -> KubeObject:
    endpoint = {
        "port": monitor.port,
        "path": monitor.path,
        # The job the rules and dashboards select (job=~"<system>-.+"), not the Service's name.
        "relabelings": [{"action": "replace", "targetLabel": "job", "replacement": monitor.job}],
    }
    spec: dict = {"selector": {"matchLabels": dict(monitor.selector)}}
    if monitor.namespaces:
        spec["namespaceSelector"] = {"matchNames": list(monitor.namespaces)}
    if monitor.kind == "service":
        spec["endpoints"] = [endpoint]
        kind = "ServiceMonitor"
    else:
        spec["podMetricsEndpoints"] = [endpoint]
        kind = "PodMonitor"
    return KubeObject(kind, object_name(prefix, monitor.job), dict(k8s.monitor_labels), spec)


def _pod_label(name: str) -> str:
    """How Kubernetes discovery names a pod label (Prometheus' sanitising: non-word characters as _)."""
    return "__meta_kubernetes_pod_label_" + re.sub(r"[^a-zA-Z0-9_]", "_", name)


def _apps_monitor(prefix: str, k8s: KubernetesSettings) -> KubeObject:
    """The pods that opt in as the Docker contract's containers do (labels monitoring.scrape, .job, .path), in
    any namespace, on their container port named `metrics`."""
    relabelings = [
        {"action": "replace", "sourceLabels": ["__meta_kubernetes_pod_name"], "targetLabel": "job"},
        {"action": "replace", "sourceLabels": [_pod_label(LABELS.job)], "regex": "(.+)", "targetLabel": "job"},
        {
            "action": "replace",
            "sourceLabels": [_pod_label(LABELS.path)],
            "regex": "(/.*)",
            "targetLabel": "__metrics_path__",
        },
    ]
    spec = {
        "selector": {"matchLabels": {LABELS.scrape: "true"}},
        "namespaceSelector": {"any": True},
        "podMetricsEndpoints": [{"port": APPS_PORT, "relabelings": relabelings}],
    }
    return KubeObject("PodMonitor", object_name(prefix, "apps"), dict(k8s.monitor_labels), spec)


def alertmanager_config(settings: StackSettings) -> tuple[KubeObject, KubeObject]:
    """The AlertmanagerConfig and the Secret its receivers read their URLs, keys and passwords from."""
    k8s = _k8s(settings)
    secret_name = object_name(settings.name_prefix, "receivers")
    secrets: dict[str, str] = {}

    def ref(key: str, value: str) -> dict:
        secrets[key] = value
        return {"name": secret_name, "key": key}

    receivers = [_receiver(r, settings.alerting, ref) for r in settings.alerting.receivers]
    spec: dict = {"route": route_tree(settings.alerting.route, _matchers, _camel), "receivers": receivers}
    if settings.alerting.inhibit_rules:
        spec["inhibitRules"] = [_inhibit_rule(rule) for rule in settings.alerting.inhibit_rules]
    config = KubeObject(
        "AlertmanagerConfig", object_name(settings.name_prefix, "routes"), dict(k8s.alertmanager_config_labels), spec
    )
    return config, KubeObject("Secret", secret_name, {}, secrets)


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part.title() for part in rest)


def _crd_key(key: str) -> str:
    """An alertmanager.yml key as the AlertmanagerConfig CRD names it (it writes URL in capitals)."""
    return re.sub(r"Url$", "URL", _camel(key))


def _matchers(matchers: Iterable[Matcher]) -> list[dict]:
    return [{"name": m.label, "value": m.value, "matchType": m.op} for m in matchers]


def _receiver(receiver: Receiver, alerting: Alerting, ref) -> dict:
    out: dict = {"name": receiver.name}
    base = re.sub(r"[^-._a-zA-Z0-9]", "-", receiver.name)
    if receiver.webhooks:
        out["webhookConfigs"] = [
            {
                "urlSecret": ref(f"{base}.webhook-{i}.url", w.url),
                "sendResolved": w.send_resolved,
                **({"maxAlerts": w.max_alerts} if w.max_alerts else {}),
            }
            for i, w in enumerate(receiver.webhooks)
        ]
    if receiver.slack:
        out["slackConfigs"] = [
            {
                "apiURL": ref(f"{base}.slack-{i}.url", s.url),
                "sendResolved": s.send_resolved,
                **target_fields(s.fields, SLACK_FIELDS, _crd_key),
            }
            for i, s in enumerate(receiver.slack)
        ]
    if receiver.pagerduty:
        out["pagerdutyConfigs"] = [
            {
                ("routingKey" if p.routing_key else "serviceKey"): ref(f"{base}.pagerduty-{i}.key", p.key),
                "sendResolved": p.send_resolved,
                **target_fields(p.fields, PAGERDUTY_FIELDS, _crd_key),
            }
            for i, p in enumerate(receiver.pagerduty)
        ]
    if receiver.email:
        smtp = alerting.smtp
        out["emailConfigs"] = []
        for e in receiver.email:
            email: dict = {
                "to": e.to,
                "sendResolved": e.send_resolved,
                **target_fields(e.fields, EMAIL_FIELDS, _crd_key),
            }
            if "headers" in email:  # a list of {key, value} in the CRD
                email["headers"] = [{"key": k, "value": v} for k, v in email["headers"].items()]
            if smtp:  # an AlertmanagerConfig has no global section: each email config carries the server
                email.update(smarthost=smtp.smarthost, **{"from": smtp.from_}, requireTLS=True)
                if smtp.username:
                    email.update(authUsername=smtp.username, authPassword=ref("smtp.password", smtp.password))
            out["emailConfigs"].append(email)
    return out


def _inhibit_rule(rule: InhibitRule) -> dict:
    out = {"sourceMatch": _matchers(rule.source_matchers), "targetMatch": _matchers(rule.target_matchers)}
    if rule.equal:
        out["equal"] = list(rule.equal)
    return out


def dashboard_configmaps(settings: StackSettings, content: Content) -> list[KubeObject]:
    """One ConfigMap per dashboard, its folder in the sidecar's folder annotation."""
    k8s = _k8s(settings)
    return [
        KubeObject(
            "ConfigMap",
            object_name(settings.name_prefix, "dashboard", dashboard.uid),
            dict(k8s.dashboard_labels),
            {f"{dashboard.uid}.json": dashboard.config_json},
            annotations={FOLDER_ANNOTATION: dashboard.folder},
        )
        for dashboard in content.dashboards
    ]


def oversized_dashboards(content: Content) -> list[tuple[str, int]]:
    """(source, bytes) of the dashboards too large for one ConfigMap."""
    sizes = [(d.source, len(d.config_json.encode())) for d in content.dashboards]
    return [(source, size) for source, size in sizes if size > CONFIGMAP_LIMIT]


def _k8s(settings: StackSettings) -> KubernetesSettings:
    if settings.kubernetes is None:
        raise ValueError("not a Kubernetes stack: settings.kubernetes is None")
    return settings.kubernetes


def manifest(obj: KubeObject, namespace: str) -> dict:
    """The object as the API server takes it: apiVersion, kind, metadata and its body."""
    api = {"AlertmanagerConfig": ALERTMANAGER_CONFIG_API_VERSION, "ConfigMap": "v1", "Secret": "v1"}
    body_key = {"ConfigMap": "data", "Secret": "stringData"}.get(obj.kind, "spec")
    metadata: dict = {"name": obj.name, "namespace": namespace, "labels": dict(obj.labels)}
    if obj.annotations:
        metadata["annotations"] = dict(obj.annotations)
    return {"apiVersion": api.get(obj.kind, API_VERSION), "kind": obj.kind, "metadata": metadata, body_key: obj.body}
