"""A Kubernetes target under mocks: a stack with `kubernetes` registers the Prometheus Operator's objects in its
namespace (PrometheusRules, monitors, an AlertmanagerConfig and its Secret, dashboard ConfigMaps) through a
Kubernetes provider of its context, and no Docker resource. The real API server and operator are the engine
tier's (issue 15)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import yaml
from conftest import KUBERNETES_STACKS, configured_stack
from mockstack import ProgramRun, run_program, secret_on_path, shared_scope, unwrap
from rendering import stack_settings

from stacks.content import load_content, select_systems
from stacks.render.kubernetes import (
    dashboard_configmaps,
    manifest,
    object_name,
    oversized_dashboards,
    prometheus_rules,
)

RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
SERVICE_MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"
POD_MONITOR = "kubernetes:monitoring.coreos.com/v1:PodMonitor"
AMC = "kubernetes:monitoring.coreos.com/v1alpha1:AlertmanagerConfig"
SECRET = "kubernetes:core/v1:Secret"
CONFIGMAP = "kubernetes:core/v1:ConfigMap"
KUBERNETES = {
    "context": "kind-monitoring",
    "namespace": "observability",
    # Unlike labels for each selector, as the operator may select rules and monitors differently.
    "ruleLabels": {"release": "kps", "role": "alert-rules"},
    "monitorLabels": {"release": "kps", "role": "scrape"},
    "alertmanagerConfigLabels": {"alertmanagerConfig": "monitoring"},
    "monitors": [{"job": "mindhit-api", "selector": {"app.kubernetes.io/name": "mindhit-api"}, "port": "http"}],
}
# What the shipped stack files set for Docker (and the Grafana container's password): not for a Kubernetes stack.
DOCKER_KEYS = (
    "scrapeTargets",
    "ports",
    "protectVolumes",
    "bindAddress",
    "dockerHost",
    "services",
    "images",
    "grafanaAdminPassword",
    "exporters",
)


def kubernetes_config(stack: str = "dev", **kubernetes) -> tuple[dict, list[str]]:
    """The stack file's config as a Kubernetes stack: its Docker-only keys left out, `kubernetes` set."""
    config, secrets = configured_stack(stack)
    for key in DOCKER_KEYS:
        config.pop(f"monitoring:{key}", None)
    config["monitoring:kubernetes"] = {**KUBERNETES, **kubernetes}
    return config, [key for key in secrets if key.removeprefix("monitoring:") not in DOCKER_KEYS]


def run(stack: str = "dev", **kubernetes) -> ProgramRun:
    return run_program(stack, *kubernetes_config(stack, **kubernetes))


def inputs(program: ProgramRun, type_: str) -> dict[str, dict]:
    """metadata.name -> inputs, of every registered object of a type."""
    return {unwrap(r.inputs)["metadata"]["name"]: unwrap(r.inputs) for r in program.recorder.by_type(type_)}


@pytest.fixture(scope=shared_scope)
def dev() -> ProgramRun:
    return run()


def test_it_registers_the_operators_objects_through_a_provider_of_its_context_and_nothing_on_docker(dev):
    rec = dev.recorder
    assert not [r for r in rec.registrations if r.type.startswith("docker:") or r.type == "pulumi:providers:docker"]
    provider = rec.one("pulumi:providers:kubernetes", "monitoring-kubernetes")
    assert unwrap(provider.inputs)["context"] == "kind-monitoring"
    assert unwrap(provider.inputs)["namespace"] == "observability"
    objects = [r for r in rec.registrations if r.type.startswith("kubernetes:")]
    assert objects and all(r.provider.startswith(provider.urn + "::") for r in objects)
    assert {unwrap(r.inputs)["metadata"]["namespace"] for r in objects} == {"observability"}


def test_one_prometheus_rule_per_rule_file_with_the_selector_labels_and_the_files_groups(dev):
    rules = inputs(dev, RULE)
    # Every system's, the generated SLO rules too; not the platform's, which watch the Docker stack's containers.
    assert sorted(rules) == [
        "monitoring-dev-kerp",
        "monitoring-dev-mindhit",
        "monitoring-dev-observer",
        "monitoring-dev-slo-kerp",
        "monitoring-dev-slo-mindhit",
        "monitoring-dev-wealist",
    ]
    shipped = [f for f in load_content().rule_files if f.system != "platform"]
    for rule_file in shipped:
        rule = rules[f"monitoring-dev-{rule_file.name.removesuffix('.yml')}"]
        assert {k: rule["metadata"]["labels"].get(k) for k in ("release", "role")} == {
            "release": "kps",
            "role": "alert-rules",
        }
        assert rule["spec"] == {"groups": yaml.safe_load(rule_file.text)["groups"]}


def test_monitors_set_the_job_the_content_selects_and_app_discovery_is_a_pod_monitor(dev):
    (monitor,) = inputs(dev, SERVICE_MONITOR).values()
    assert {k: monitor["metadata"]["labels"].get(k) for k in ("release", "role")} == {
        "release": "kps",
        "role": "scrape",
    }
    assert monitor["spec"]["selector"] == {"matchLabels": {"app.kubernetes.io/name": "mindhit-api"}}
    (endpoint,) = monitor["spec"]["endpoints"]
    assert (endpoint["port"], endpoint["path"]) == ("http", "/metrics")
    assert {"action": "replace", "targetLabel": "job", "replacement": "mindhit-api"} in endpoint["relabelings"]
    apps = inputs(dev, POD_MONITOR)["monitoring-dev-apps"]
    assert apps["spec"]["selector"] == {"matchLabels": {"monitoring.scrape": "true"}}
    assert apps["spec"]["namespaceSelector"] == {"any": True}
    (endpoint,) = apps["spec"]["podMetricsEndpoints"]
    assert endpoint["port"] == "metrics"
    job = [r for r in endpoint["relabelings"] if r["targetLabel"] == "job"]
    assert job[-1]["sourceLabels"] == ["__meta_kubernetes_pod_label_monitoring_job"]


def test_a_pod_monitor_for_a_pod_target_and_no_apps_monitor_without_discovery():
    program = run_program(
        "dev",
        *(
            lambda config_secrets: (
                {**config_secrets[0], "monitoring:appDiscovery": {"enabled": False}},
                config_secrets[1],
            )
        )(
            kubernetes_config(
                monitors=[
                    {
                        "job": "kerp-api",
                        "kind": "pod",
                        "selector": {"app": "kerp"},
                        "port": "metrics",
                        "namespaces": ["kerp"],
                    }
                ]
            )
        ),
    )
    assert not inputs(program, SERVICE_MONITOR)
    monitors = inputs(program, POD_MONITOR)
    assert sorted(monitors) == ["monitoring-dev-kerp-api"]
    spec = monitors["monitoring-dev-kerp-api"]["spec"]
    assert spec["namespaceSelector"] == {"matchNames": ["kerp"]}
    assert spec["podMetricsEndpoints"][0]["port"] == "metrics"


def test_the_alertmanager_config_is_the_routing_definition_with_its_urls_in_a_secret():
    program = run("prod")
    (amc,) = inputs(program, AMC).values()
    assert amc["metadata"]["labels"]["alertmanagerConfig"] == "monitoring"
    spec = amc["spec"]
    config = configured_stack("prod")[0]["monitoring:alerting"]
    assert spec["route"]["receiver"] == config["route"]["receiver"]
    assert [r["name"] for r in spec["receivers"]] == [r["name"] for r in config["receivers"]]
    # No URL or key in the AlertmanagerConfig itself: references into the Secret, which holds them as secrets.
    text = json.dumps(spec)
    assert "https://" not in text and "pdv2Prod0001" not in text and "prod-Smtp-pw-1" not in text
    (secret_record,) = program.recorder.by_type(SECRET)
    secret = unwrap(secret_record.inputs)
    refs = [
        c.get("urlSecret") or c.get("apiURL") or c.get("routingKey") or c.get("authPassword")
        for r in spec["receivers"]
        for kind in ("webhookConfigs", "slackConfigs", "pagerdutyConfigs", "emailConfigs")
        for c in r.get(kind, [])
    ]
    assert refs and {ref["name"] for ref in refs} == {secret["metadata"]["name"]}
    assert {ref["key"] for ref in refs} == set(secret["stringData"])
    assert "https://hooks.slack.test/services/PROD/KERP" in secret["stringData"].values()
    assert secret_on_path(secret_record.inputs, "stringData")
    matcher = spec["route"]["routes"][0]["matchers"][0]
    assert set(matcher) == {"name", "value", "matchType"}


def test_alertmanager_config_matchers_keep_their_operators():
    config, secrets = kubernetes_config("prod")
    config["monitoring:alerting"]["route"]["routes"].insert(
        0,
        {"matchers": ['severity=~"critical|warning"', 'system!="platform"', 'team!~"ops.*"'], "receiver": "kerp"},
    )
    (amc,) = inputs(run_program("prod", config, secrets), AMC).values()
    assert amc["spec"]["route"]["routes"][0]["matchers"] == [
        {"name": "severity", "value": "critical|warning", "matchType": "=~"},
        {"name": "system", "value": "platform", "matchType": "!="},
        {"name": "team", "value": "ops.*", "matchType": "!~"},
    ]


def test_dashboards_go_as_configmaps_for_the_sidecar_with_their_folder(dev):
    maps = inputs(dev, CONFIGMAP)
    folders = [m["metadata"]["annotations"]["grafana_folder"] for m in maps.values()]
    assert sorted(set(folders)) == ["K-ERP", "MindHit", "Observer", "SLOs", "weAlist"]  # no Platform
    assert len(maps) == len([d for d in load_content().dashboards if d.folder != "Platform"])
    overview = maps["monitoring-dev-dashboard-mindhit-api-overview"]
    assert overview["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert overview["metadata"]["annotations"] == {"grafana_folder": "MindHit"}
    (model,) = overview["data"].values()
    assert json.loads(model)["uid"] == "mindhit-api-overview"
    assert not dev.recorder.by_type("grafana:oss/dashboard:Dashboard")


def test_the_grafana_provider_mode_sends_the_content_to_the_clusters_grafana_instead():
    config, secrets = kubernetes_config(grafana="provider")
    config["monitoring:grafana"] = {
        "url": "https://grafana.cluster.test",
        "datasourceUrls": {
            "prometheus": "http://kps-prometheus.observability:9090",
            "alertmanager": "http://kps-alertmanager.observability:9093",
        },
    }
    config["monitoring:grafanaToken"] = "glsa_cluster_token_0001"
    config["monitoring:systems"] = ["mindhit", "kerp"]  # weAlist's dashboards read Loki, which this cluster lacks
    program = run_program("dev", config, [*secrets, "monitoring:grafanaToken"])
    assert not program.recorder.by_type(CONFIGMAP)
    assert program.recorder.by_type("grafana:oss/dashboard:Dashboard")
    sources = {unwrap(r.inputs)["uid"] for r in program.recorder.by_type("grafana:oss/dataSource:DataSource")}
    assert sources == {"prometheus", "alertmanager"}


# ---------------------------------------------------------------- the shipped Kubernetes stacks


@pytest.mark.parametrize("stack", KUBERNETES_STACKS)
def test_each_kubernetes_stack_file_registers_its_objects_for_kube_prometheus_stack(stack):
    config, secrets = configured_stack(stack)
    program = run_program(stack, config, secrets)
    rec = program.recorder
    assert not [r for r in rec.registrations if r.type.startswith(("docker:", "grafana:"))]
    release = {"release": "kube-prometheus-stack"}
    for type_ in (RULE, SERVICE_MONITOR, POD_MONITOR):
        objects = inputs(program, type_)
        assert objects, type_
        assert all(o["metadata"]["labels"].items() >= release.items() for o in objects.values()), type_
    # K-ERP's API pods by the label seed 002's scrape job keeps (__meta_kubernetes_pod_label_app: kerp-api).
    kerp = inputs(program, POD_MONITOR)["monitoring-cluster-kerp-api"]["spec"]
    assert kerp["selector"] == {"matchLabels": {"app": "kerp-api"}}
    # Every job the cluster's systems declare has a monitor: none of their TargetMissing alerts fires for want of one.
    monitored = {
        o["metadata"]["name"].removeprefix("monitoring-cluster-")
        for t in (SERVICE_MONITOR, POD_MONITOR)
        for o in inputs(program, t).values()
    }
    assert {"mindhit-api", "kerp-api", "kerp-postgres-exporter", "kerp-redis-exporter"} <= monitored
    (amc,) = inputs(program, AMC).values()
    assert amc["metadata"]["labels"]["alertmanagerConfig"] == "monitoring"
    assert {u["metadata"]["namespace"] for u in inputs(program, CONFIGMAP).values()} == {"monitoring"}
    # Only the systems it names: MindHit's and K-ERP's rules and their SLOs. The platform's rules watch the Docker
    # stack's own containers: kube-prometheus-stack brings its own.
    names = {name.removeprefix("monitoring-cluster-") for name in inputs(program, RULE)}
    assert names == {"mindhit", "kerp", "slo-mindhit", "slo-kerp"}
    folders = {o["metadata"]["annotations"]["grafana_folder"] for o in inputs(program, CONFIGMAP).values()}
    assert folders == {"MindHit", "K-ERP", "SLOs"}
    (secret,) = rec.by_type(SECRET)
    assert secret_on_path(secret.inputs, "stringData")


def test_the_cluster_routes_as_prod_does_but_observer():
    """Pulumi.cluster.yaml is prod's content on Kubernetes, but Observer's (a Docker collector, seed 004): its
    routing is prod's without Observer's route and receivers, row for row of the routing table's prod section
    (which the real operator's conversion is checked against in the engine tier)."""
    prod = configured_stack("prod")[0]["monitoring:alerting"]
    prod["receivers"] = [r for r in prod["receivers"] if not r["name"].startswith("observer")]
    prod["route"]["routes"] = [r for r in prod["route"]["routes"] if r.get("matchers") != ['system="observer"']]
    assert configured_stack("cluster")[0]["monitoring:alerting"] == prod
    assert "observer" not in configured_stack("cluster")[0]["monitoring:systems"]


def test_object_names_are_dns_subdomains_of_the_prefix_and_parts():
    assert object_name("monitoring-dev", "slo", "MindHit_API v2") == "monitoring-dev-slo-mindhit-api-v2"
    assert object_name("-prefix.", "rules.", "--") == "prefix.-rules"  # no '-' or '.' at either end
    assert object_name("p", "x" * 300) == "p-" + "x" * 251  # at most 253 characters


def test_each_rule_file_and_dashboard_becomes_its_manifest_with_the_files_own_content():
    """The manifests as the API server takes them, their bodies read back from the files on disk."""
    settings = stack_settings("cluster")
    content = select_systems(load_content(), settings.systems)
    rules = {obj.name: manifest(obj, "monitoring") for obj in prometheus_rules(settings, content)}
    for rule_file in content.rule_files:
        stem = rule_file.name.removesuffix(".yml")
        assert rules.pop(f"monitoring-cluster-{stem}") == {
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "PrometheusRule",
            "metadata": {
                "name": f"monitoring-cluster-{stem}",
                "namespace": "monitoring",
                "labels": {"release": "kube-prometheus-stack"},
            },
            "spec": {"groups": yaml.safe_load(rule_file.text)["groups"]},
        }
    assert rules == {}
    maps = {obj.name: manifest(obj, "monitoring") for obj in dashboard_configmaps(settings, content)}
    for dashboard in content.dashboards:
        uid = json.loads(dashboard.config_json)["uid"]
        # dashboards/<folder>/x.json go to that folder; those generated from rules/slos/ to SLOs.
        folder = "SLOs" if dashboard.source.startswith("rules/slos/") else dashboard.source.split("/")[1]
        assert maps.pop(f"monitoring-cluster-dashboard-{uid}") == {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": f"monitoring-cluster-dashboard-{uid}",
                "namespace": "monitoring",
                "labels": {"grafana_dashboard": "1"},
                "annotations": {"grafana_folder": folder},
            },
            "data": {f"{uid}.json": dashboard.config_json},
        }
    assert maps == {}


def test_a_dashboard_over_a_configmaps_mebibyte_is_named_and_one_of_exactly_a_mebibyte_is_not():
    """The API server's limit (validation.go, ValidateConfigMap): the values' bytes above 1 MiB; the key is free."""
    dashboards = [
        SimpleNamespace(source="dashboards/A/fits.json", config_json="x" * 1024 * 1024),
        SimpleNamespace(source="dashboards/A/over.json", config_json="é" * (512 * 1024) + "x"),  # 2 bytes each
    ]
    assert oversized_dashboards(SimpleNamespace(dashboards=dashboards)) == [("dashboards/A/over.json", 1024 * 1024 + 1)]


def test_a_rule_file_named_with_dots_keeps_them_in_its_object_name(content_copy):
    """Mixins name their files node.rules.yml: the PrometheusRule is <prefix>-node.rules."""
    rule = {"record": "node:up:count", "expr": "count(up)"}
    (content_copy / "rules/node.rules.yml").write_text(yaml.safe_dump({"groups": [{"name": "node", "rules": [rule]}]}))
    settings = stack_settings("cluster")
    names = [obj.name for obj in prometheus_rules(settings, select_systems(load_content(), settings.systems))]
    assert "monitoring-cluster-node.rules" in names and "monitoring-cluster-node" not in names


def test_a_kubernetes_stack_warns_of_the_log_panels_it_deploys_without_a_log_collector(logged_warnings):
    """The stack runs no Loki and no collector on Kubernetes: its log panels show only what the cluster's do."""
    run()  # every system, dashboards as ConfigMaps: no Grafana-managed rules
    reads_logs = [w for w in logged_warnings if "reads logs (the loki datasource)" in w]
    assert [w.split(":")[0] for w in reads_logs] == [
        "dashboards/weAlist/developer.json",
        "dashboards/weAlist/log-analysis.json",
        "dashboards/weAlist/service-detail.json",
    ]
    assert reads_logs[0].endswith(
        ": reads logs (the loki datasource), and a Kubernetes stack runs no log collector: it shows what the "
        "cluster's own Loki holds, and its selectors (job=\"docker\", service) match only if the cluster's collector "
        'writes the labels stacks/layout.py LOG_LABELS names (docs/kubernetes.md, "Logs on Kubernetes")'
    )
    logged_warnings.clear()
    run_program("cluster", *configured_stack("cluster"))  # MindHit and K-ERP: no log panels
    run_program("dev", *configured_stack("dev"))  # Docker: the stack's own Loki
    assert not [w for w in logged_warnings if "reads logs" in w]


def test_through_the_grafana_provider_its_log_rules_are_named_too():
    from dataclasses import replace

    from stacks.preflight import log_source_warnings

    settings = stack_settings("cluster")
    provider = replace(settings, kubernetes=replace(settings.kubernetes, grafana="provider"))
    content = select_systems(load_content(), settings.systems)
    assert [w.split(":")[0] for w in log_source_warnings(provider, content)] == [
        "dashboards/Platform/logs.json",
        "rules/grafana/platform-logs.yml",
    ]
    # ConfigMaps carry the dashboards only: the Grafana-managed rules are not deployed, so not named.
    configmaps = replace(settings, kubernetes=replace(settings.kubernetes, grafana="configmaps"))
    assert [w.split(":")[0] for w in log_source_warnings(configmaps, content)] == ["dashboards/Platform/logs.json"]
