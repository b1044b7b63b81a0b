"""prometheus.remoteWrite: the stores in prometheus.yml in Prometheus's own names, their credentials as secrets, and a
Grafana datasource for each store that answers PromQL. What the real promtool says of them:
tests/tools/test_remote_write_promtool.py."""

from __future__ import annotations

import pytest
import yaml
from conftest import configured_stack
from mockstack import run_program, secret_on_path, unwrap
from rendering import STORE, with_remote_write

from stacks.config.load import load_settings
from stacks.render.prometheus import render_prometheus_config


def test_a_store_becomes_a_remote_write_entry_in_prometheus_s_own_names():
    stack_config, secret_keys = with_remote_write("dev", STORE)
    config = yaml.safe_load(render_prometheus_config(load_settings(stack_config, frozenset(secret_keys))))
    assert config["remote_write"] == [
        {
            "name": "long-term",
            "url": "https://vm.example.com/api/v1/write",
            "basic_auth": {"username": "prometheus", "password": "s3cret-pass"},
            "write_relabel_configs": [
                {"source_labels": ["__name__"], "regex": "go_.*", "action": "drop"},
                {"action": "labeldrop", "regex": "pod_template_hash"},
            ],
            "queue_config": {
                "capacity": 20000,
                "max_shards": 8,
                "max_samples_per_send": 4000,
                "batch_send_deadline": "10s",
            },
        }
    ]


def test_no_store_no_remote_write():
    config, secret_keys = configured_stack("prod")
    assert "remote_write" not in yaml.safe_load(render_prometheus_config(load_settings(config, frozenset(secret_keys))))


@pytest.mark.parametrize(
    ("store", "credential"),
    [
        (STORE, "s3cret-pass"),
        ({"name": "mimir", "url": "http://mimir:9009/api/v1/push", "bearerToken": "t0ken-only"}, "t0ken-only"),
    ],
)
def test_credentials_travel_as_secrets_whichever_kind(store, credential):
    config, secret_keys = with_remote_write("staging", store)
    run = run_program("staging", config, secret_keys)
    prometheus = run.recorder.one("docker:index/container:Container", "monitoring-prometheus-container")
    uploads = unwrap(prometheus.inputs["uploads"])
    for i in range(len(uploads)):  # prometheus.yml holds the password or the token
        assert secret_on_path(prometheus.inputs, "uploads", i, "content")
    assert credential in next(u["content"] for u in uploads if u["file"].endswith("prometheus.yml"))


def test_a_queryable_store_gets_a_datasource():
    config, secret_keys = with_remote_write("staging", STORE)
    run = run_program("staging", config, secret_keys)
    source = unwrap(
        run.recorder.one(
            "grafana:oss/dataSource:DataSource", "monitoring-grafana-content-datasource-store-long-term"
        ).inputs
    )
    assert (source["name"], source["type"], source["uid"], source["url"], source["isDefault"]) == (
        "Prometheus long-term (long-term)",
        "prometheus",
        "store-long-term",
        "https://vm.example.com",
        False,
    )


def test_without_credentials_prometheus_files_stay_plain():
    config, secret_keys = with_remote_write("dev", {"name": "open", "url": "http://vm:8428/api/v1/write"})
    run = run_program("dev", config, secret_keys)
    prometheus = run.recorder.one("docker:index/container:Container", "monitoring-prometheus-container")
    uploads = prometheus.inputs["uploads"]
    assert not any(secret_on_path(prometheus.inputs, "uploads", i, "content") for i in range(len(uploads)))
    sources = {r.name for r in run.recorder.by_type("grafana:oss/dataSource:DataSource")}
    assert sources and not {name for name in sources if "store-" in name}  # no queryUrl: no datasource


def test_a_user_without_a_password_and_queues_of_one_are_written_as_given():
    """Basic auth with a username only (Prometheus sends an empty password) and the smallest queue counts."""
    store = {
        "name": "lts",
        "url": "http://vm:8428/api/v1/write",
        "basicAuth": {"username": "prometheus"},
        "queue": {"capacity": 1, "maxShards": 1, "minShards": 1},
    }
    config, secret_keys = with_remote_write("dev", store)
    (entry,) = yaml.safe_load(render_prometheus_config(load_settings(config, frozenset(secret_keys))))["remote_write"]
    assert entry == {
        "name": "lts",
        "url": "http://vm:8428/api/v1/write",
        "basic_auth": {"username": "prometheus", "password": ""},
        "queue_config": {"capacity": 1, "max_shards": 1, "min_shards": 1},
    }
