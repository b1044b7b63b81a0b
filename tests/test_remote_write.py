"""prometheus.remoteWrite: the stores in prometheus.yml as Prometheus reads them (the real promtool), their
credentials as secrets, and a Grafana datasource for each store that answers PromQL."""

from __future__ import annotations

import subprocess

import pytest
import yaml
from conftest import configured_stack
from mockstack import run_program, secret_on_path, unwrap
from rendering import with_remote_write

from stacks.render.prometheus import render_prometheus_config
from stacks.settings import load_settings

STORE = {
    "name": "long-term",
    "url": "https://vm.example.com/api/v1/write",
    "queryUrl": "https://vm.example.com",
    "basicAuth": {"username": "prometheus", "password": "s3cret-pass"},
    "writeRelabel": [
        {"sourceLabels": ["__name__"], "regex": "go_.*", "action": "drop"},
        {"action": "labeldrop", "regex": "pod_template_hash"},
    ],
    "queue": {"capacity": 20000, "maxShards": 8, "maxSamplesPerSend": 4000, "batchSendDeadline": "10s"},
}


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


@pytest.mark.tools
def test_promtool_accepts_the_remote_write_config(tmp_path):
    token_store = {"name": "mimir", "url": "http://mimir:9009/api/v1/push", "bearerToken": "t0ken"}
    config, secret_keys = with_remote_write("dev", STORE, token_store)
    path = tmp_path / "prometheus.yml"
    path.write_text(render_prometheus_config(load_settings(config, frozenset(secret_keys))))
    result = subprocess.run(["promtool", "check", "config", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert yaml.safe_load(path.read_text())["remote_write"][1]["authorization"] == {
        "type": "Bearer",
        "credentials": "t0ken",
    }


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
    assert (source["type"], source["uid"], source["url"], source["isDefault"]) == (
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
