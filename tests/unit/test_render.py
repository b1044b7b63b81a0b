"""The pure renderers, byte for byte against golden files (UPDATE_GOLDEN=1 rewrites them after a reviewed change)."""

from __future__ import annotations

import pytest
import yaml
from conftest import STACKS, configured_stack
from rendering import assert_matches_golden, rendered_files, stack_settings
from repo import GOLDEN, ROOT

from stacks.config.load import load_settings
from stacks.layout import APP_DISCOVERY_JOB
from stacks.render.kubernetes import alertmanager_config, manifest, monitors
from stacks.render.loki import render_loki_config
from stacks.render.prometheus import render_prometheus_config


@pytest.mark.parametrize("stack", STACKS)
def test_rendered_files_match_golden(stack):
    for name, text in rendered_files(stack).items():
        assert_matches_golden(GOLDEN / stack / name, text)


def test_loki_keeps_logs_for_the_stack_retention_with_the_compactor():
    config = yaml.safe_load(render_loki_config(stack_settings("prod")))
    assert config["limits_config"]["retention_period"] == "30d"
    assert config["compactor"]["retention_enabled"] is True
    assert config["compactor"]["delete_request_store"] == "filesystem"
    schema = config["schema_config"]["configs"][0]
    assert (schema["store"], schema["schema"], schema["object_store"]) == ("tsdb", "v13", "filesystem")


def test_prometheus_scrapes_every_component_and_sends_to_alertmanager():
    config = yaml.safe_load(rendered_files("dev")["prometheus.yml"])
    static = [job for job in config["scrape_configs"] if "static_configs" in job]
    targets = {job["job_name"]: job["static_configs"][0]["targets"] for job in static}
    assert targets == {
        "prometheus": ["localhost:9090"],
        "alertmanager": ["alertmanager:9093"],
        "loki": ["loki:3100"],
        "promtail": ["promtail:9080"],
        "grafana": ["grafana:3000"],
        "node-exporter": ["host.docker.internal:9100"],
        "cadvisor": ["host.docker.internal:9338"],
        "mindhit-api": ["host.docker.internal:9000"],
    }
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["alertmanager:9093"]
    # Each rule file of dev's systems (rules/<system>.yml, and the rules generated from rules/slos/<system>.yml) by
    # name: a file delivered before and since deleted stays in the running container, unread.
    names = ["kerp", "mindhit", "observer", "platform", "slo-kerp", "slo-mindhit", "wealist"]
    assert config["rule_files"] == [f"/etc/prometheus/rules/{name}.yml" for name in names]


def discovery_job(settings) -> dict | None:
    jobs = yaml.safe_load(render_prometheus_config(settings))["scrape_configs"]
    return next((job for job in jobs if job["job_name"] == APP_DISCOVERY_JOB), None)


def relabel(job: dict, target_label: str) -> list[dict]:
    return [r for r in job["relabel_configs"] if r.get("target_label") == target_label]


def test_prometheus_discovers_opted_in_containers_on_the_stack_network_only():
    config, secrets = configured_stack("dev")
    config.update({"monitoring:namePrefix": "team.a", "monitoring:prometheus": {"scrapeInterval": "5s"}})
    job = discovery_job(load_settings(config, frozenset(secrets)))
    sd = job["docker_sd_configs"][0]
    assert sd["host"] == "unix:///var/run/docker.sock" and sd["refresh_interval"] == "5s"
    assert sd["filters"] == [
        {"name": "label", "values": ["monitoring.scrape=true"]},
        {"name": "network", "values": ["team.a-network"]},
    ]
    keep = [r for r in job["relabel_configs"] if r.get("action") == "keep"]
    assert keep == [
        {"source_labels": ["__meta_docker_network_name"], "regex": r"team\.a-network", "action": "keep"},
        {"source_labels": ["__meta_docker_container_label_monitoring_port"], "regex": r"\d+", "action": "keep"},
    ]
    (address,) = relabel(job, "__address__")
    assert address["source_labels"] == ["__meta_docker_network_ip", "__meta_docker_container_label_monitoring_port"]
    assert (address["regex"], address["replacement"]) == (r"(.+);(\d+)", "$1:$2")
    assert relabel(job, "__metrics_path__")[0]["source_labels"] == ["__meta_docker_container_label_monitoring_path"]
    default_job, labelled_job = relabel(job, "job")  # the container name, then the label when it is set
    assert default_job["source_labels"] == ["container"]
    assert labelled_job["source_labels"] == ["__meta_docker_container_label_monitoring_job"]
    assert labelled_job["regex"] == "(.+)"


def test_an_app_cannot_take_the_job_name_of_a_stack_or_static_job():
    job = discovery_job(stack_settings("dev"))
    (drop,) = [r for r in job["relabel_configs"] if r.get("action") == "drop"]
    assert drop == {
        "source_labels": ["job"],
        "regex": "prometheus|alertmanager|loki|promtail|grafana|node-exporter|cadvisor|mindhit-api",
        "action": "drop",
    }


def test_app_discovery_can_be_switched_off():
    config, secrets = configured_stack("dev")
    config["monitoring:appDiscovery"] = {"enabled": False}
    assert discovery_job(load_settings(config, frozenset(secrets))) is None
    assert discovery_job(stack_settings("dev")) is not None


def test_docs_tables_are_generated_from_the_schema_the_layout_and_the_pins():
    import sys

    sys.path.insert(0, str(ROOT / "scripts"))
    from readme_tables import TABLE_FILES, TABLES, with_tables

    docs = {path: path.read_text() for path in TABLE_FILES}
    for path, text in docs.items():
        assert with_tables(text) == text, f"{path.name}: run: python scripts/readme_tables.py --write"
    everything = "\n".join(docs.values())
    for name in TABLES:  # each table has its block in one of the files
        assert everything.count(f"<!-- {name}:start -->") == everything.count(f"<!-- {name}:end -->") == 1, name
    assert "| `prometheus` | `prom/prometheus:v3.16.0` | 9090 | 9091 | `/-/ready` | yes |" in everything


# ---------------------------------------------------------------- the Kubernetes objects of the settings

# The cluster stack with a receiver of every kind and their every field, SMTP with a user, a webhook's
# maxAlerts, a PagerDuty v1 key, and a monitor limited to namespaces: each path of the renderer in the golden.
EVERY_RECEIVER = {
    "smtp": {"smarthost": "mail:587", "from": "am@example.com", "username": "am", "password": "smtp-pw"},
    "receivers": [
        {"name": "default", "webhooks": [{"url": "http://sink:9095/a", "maxAlerts": 5, "sendResolved": False}]},
        {
            "name": "On call/EU",  # characters a Secret key cannot hold
            "slack": [
                {
                    "url": "https://hooks.slack.test/x",
                    "channel": "#eu",
                    "username": "am",
                    "color": "danger",
                    "title": "T",
                    "titleLink": "https://example.com",
                    "pretext": "P",
                    "text": "X",
                }
            ],
            "pagerduty": [{"serviceKey": "v1-key", "description": "D", "severity": "critical", "class": "c"}],
            "email": [{"to": "oncall@example.com", "subject": "S", "html": "H", "text": "X", "sendResolved": True}],
        },
        {"name": "v2", "pagerduty": [{"routingKey": "pdv2Test0001IntegrationKey000001", "component": "api"}]},
    ],
    "route": {
        "receiver": "default",
        "groupBy": ["alertname"],
        "routes": [
            {"matchers": ['team=~"eu|us"', 'env!="dev"'], "receiver": "On call/EU", "continue": True},
            {"matchers": ['service!~"test.*"'], "receiver": "v2", "groupWait": "10s"},
        ],
    },
    "inhibitRules": [
        {"sourceMatchers": ['severity="critical"'], "targetMatchers": ['severity=~"warning|info"']},
        {"sourceMatchers": ['alertname="Down"'], "targetMatchers": ['severity!="critical"'], "equal": ["job"]},
    ],
}


def kubernetes_objects(settings) -> str:
    objects = [*monitors(settings), *alertmanager_config(settings)]
    return yaml.safe_dump_all([manifest(obj, settings.kubernetes.namespace) for obj in objects], sort_keys=False)


@pytest.mark.parametrize("variant", ["shipped", "every-receiver"])
def test_the_kubernetes_objects_of_the_settings_match_golden(variant):
    """Monitors, the AlertmanagerConfig and its Secret of the cluster stack, field for field (the rule files and
    dashboards they carry are the content's own: tests/program/test_kubernetes.py reads them back from the files)."""
    config, secret_keys = configured_stack("cluster")
    if variant == "every-receiver":
        config["monitoring:alerting"] = EVERY_RECEIVER
        config["monitoring:grafanaContent"] = False  # a PagerDuty v1 key is for Alertmanager only
        kubernetes = config["monitoring:kubernetes"]
        kubernetes["monitors"] = [
            *kubernetes["monitors"],
            {**kubernetes["monitors"][0], "job": "api-eu", "namespaces": ["eu", "eu-2"], "path": "/m"},
        ]
    text = kubernetes_objects(load_settings(config, frozenset(secret_keys)))
    assert_matches_golden(GOLDEN / "cluster" / f"kubernetes-{variant}.yaml", text)
