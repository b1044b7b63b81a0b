"""The pure renderers, byte for byte against golden files (UPDATE_GOLDEN=1 rewrites them after a reviewed change)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from conftest import STACKS
from rendering import rendered_files, stack_settings

from stacks.render.loki import render_loki_config
from stacks.render.promtail import render_promtail_config

GOLDEN = Path(__file__).resolve().parent / "golden"


@pytest.mark.parametrize("stack", STACKS)
def test_rendered_files_match_golden(stack):
    for name, text in rendered_files(stack).items():
        golden = GOLDEN / stack / name
        if os.environ.get("UPDATE_GOLDEN"):
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_text(text)
        assert golden.exists(), f"missing golden file {golden}; run with UPDATE_GOLDEN=1 and review it"
        assert text == golden.read_text(), f"{stack}/{name} differs from its golden file"


def test_loki_keeps_logs_for_the_stack_retention_with_the_compactor():
    config = yaml.safe_load(render_loki_config(stack_settings("prod")))
    assert config["limits_config"]["retention_period"] == "30d"
    assert config["compactor"]["retention_enabled"] is True
    assert config["compactor"]["delete_request_store"] == "filesystem"
    schema = config["schema_config"]["configs"][0]
    assert (schema["store"], schema["schema"], schema["object_store"]) == ("tsdb", "v13", "filesystem")


def test_promtail_labels_container_and_service_but_never_request_or_user_ids():
    config = yaml.safe_load(render_promtail_config(stack_settings("dev")))
    job = config["scrape_configs"][0]
    labels = {r["target_label"] for r in job["relabel_configs"]}
    assert {"container", "service"} <= labels
    stage_labels = set()
    for stage in job["pipeline_stages"]:
        stage_labels |= set(stage.get("labels") or {})
    assert stage_labels == {"level"}
    assert not {"request_id", "user_id"} & (labels | stage_labels)


def test_prometheus_scrapes_every_component_and_sends_to_alertmanager():
    config = yaml.safe_load(rendered_files("dev")["prometheus.yml"])
    targets = {job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]}
    assert targets == {
        "prometheus": ["localhost:9090"],
        "alertmanager": ["alertmanager:9093"],
        "loki": ["loki:3100"],
        "promtail": ["promtail:9080"],
        "grafana": ["grafana:3000"],
        "mindhit-api": ["host.docker.internal:9000"],
    }
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["alertmanager:9093"]
    shipped = sorted(p.name for p in (GOLDEN.parent.parent / "rules").glob("*.yml"))
    assert config["rule_files"] == [f"/etc/prometheus/rules/{name}" for name in shipped]


def test_readme_config_table_is_generated_from_the_schema():
    import sys

    sys.path.insert(0, str(GOLDEN.parent.parent / "scripts"))
    from config_table import readme_with_table

    readme = (GOLDEN.parent.parent / "README.md").read_text()
    assert readme_with_table(readme) == readme, "run: python scripts/config_table.py --write"
