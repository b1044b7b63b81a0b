"""The README's examples work as written: its alert rule passes preview's checks in MindHit's rule file and fires,
and stays silent, where its summary says under the real promtool; its receiver and route take a system's alerts to
that receiver under the real amtool, and its scrape target is taken by preview."""

from __future__ import annotations

import re
import subprocess

import pytest
import yaml
from conftest import configured_stack
from repo import ROOT
from routing import receivers_reached

from stacks.config.load import load_settings
from stacks.content import load_content
from stacks.render.alertmanager import render_alertmanager_config

pytestmark = pytest.mark.tools


def readme_block(section: str, language: str) -> str:
    """The first fenced block of this language in the README's section of this heading."""
    text = (ROOT / "README.md").read_text()
    body = re.search(rf"^## {re.escape(section)}\n(.*?)(?=^## )", text, re.S | re.M)
    assert body, f"README has no section {section!r}"
    block = re.search(rf"^```{language}\n(.*?)^```", body[1], re.S | re.M)
    assert block, f"README's {section!r} has no {language} block"
    return block[1]


def readme_rule() -> dict:
    (rule,) = yaml.safe_load(readme_block("Add an alert rule", "yaml"))
    return rule


def test_the_readme_rule_passes_preview_in_mindhits_rule_file(content_copy):
    path = content_copy / "rules/mindhit.yml"
    rules = yaml.safe_load(path.read_text())
    rules["groups"][0]["rules"].append(readme_rule())
    path.write_text(yaml.safe_dump(rules, sort_keys=False))
    content = load_content()  # raises InputError on any problem, naming file and line
    (mindhit,) = [rule_file for rule_file in content.rule_files if rule_file.name == "mindhit.yml"]
    assert "MindhitJobRetries" in mindhit.text


def test_the_readme_rule_fires_above_one_retry_a_second_and_not_below(tmp_path):
    rule = readme_rule()
    (tmp_path / "rule.yml").write_text(yaml.safe_dump({"groups": [{"name": "readme", "rules": [rule]}]}))
    fired = {"exp_labels": {"severity": "warning", "system": "mindhit"}, "exp_annotations": rule["annotations"]}
    tests = {
        "rule_files": ["rule.yml"],
        "evaluation_interval": "1m",
        "tests": [
            {  # 120 retries a minute: 2 a second, for the 10 minutes of `for`
                "interval": "1m",
                "input_series": [
                    {"series": 'mindhit_worker_job_retries_total{job="mindhit-worker"}', "values": "0+120x20"}
                ],
                "alert_rule_test": [
                    {"eval_time": "8m", "alertname": "MindhitJobRetries", "exp_alerts": []},
                    {"eval_time": "16m", "alertname": "MindhitJobRetries", "exp_alerts": [fired]},
                ],
            },
            {  # 30 a minute: half a retry a second
                "interval": "1m",
                "input_series": [
                    {"series": 'mindhit_worker_job_retries_total{job="mindhit-worker"}', "values": "0+30x20"}
                ],
                "alert_rule_test": [{"eval_time": "16m", "alertname": "MindhitJobRetries", "exp_alerts": []}],
            },
        ],
    }
    (tmp_path / "rule_test.yml").write_text(yaml.safe_dump(tests))
    run = subprocess.run(
        ["promtool", "test", "rules", "rule_test.yml"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_readme_receiver_takes_its_systems_alerts_under_amtool(tmp_path):
    readme = readme_block("Add a receiver", "yaml")
    example = yaml.safe_load(readme)
    config, secret_keys = configured_stack("dev")
    alerting = config["monitoring:alerting"]
    (receiver,) = example["receivers"]
    receiver["slack"][0]["url"] = "https://hooks.slack.com/services/T0/B0/readme"  # the secret the README sets
    alerting["receivers"].append(receiver)
    alerting["route"]["routes"] = [*example["route"]["routes"], *alerting["route"].get("routes", [])]
    settings = load_settings(config, frozenset(secret_keys))
    (tmp_path / "alertmanager.yml").write_text(render_alertmanager_config(settings.alerting))
    for severity in ("critical", "warning"):
        labels = {"alertname": "ShopDown", "system": "shop", "severity": severity}
        assert receivers_reached(tmp_path / "alertmanager.yml", labels) == ["shop"]


def test_the_readme_scrape_target_is_taken_as_a_job():
    example = yaml.safe_load(readme_block("Add an application", "yaml"))
    config, secret_keys = configured_stack("dev")
    config["monitoring:scrapeTargets"] = example["monitoring:scrapeTargets"]
    settings = load_settings(config, frozenset(secret_keys))
    assert [(job.job, job.targets) for job in settings.scrape_targets] == [("shop-api", ("host.docker.internal:8081",))]
