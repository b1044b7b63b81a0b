"""The rendered configuration and the content, checked by the real promtool and amtool."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import STACKS
from rendering import rendered_files, stack_settings

from stacks.content import load_content, select_systems
from stacks.layout import RULES_DIR

pytestmark = pytest.mark.tools
ROOT = Path(__file__).resolve().parent.parent
RULE_FILES = sorted(ROOT.glob("rules/*.yml"))


def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("stack", STACKS)
def test_promtool_accepts_the_rendered_prometheus_config(stack, tmp_path):
    # The config names the rule files where the container has them; point it at the repository's copies.
    text = rendered_files(stack)["prometheus.yml"].replace(RULES_DIR, str(ROOT / "rules"))
    config = tmp_path / "prometheus.yml"
    config.write_text(text)
    result = run("promtool", "check", "config", str(config))
    assert result.returncode == 0, result.stdout + result.stderr
    output = result.stdout + result.stderr
    settings = stack_settings(stack)
    deployed = [f.path for f in select_systems(load_content(), settings.systems).rule_files]
    for rule_file in deployed:  # promtool followed rule_files to every file the stack ships
        count = sum(len(g["rules"]) for g in yaml.safe_load(rule_file.read_text())["groups"])
        assert f"rules/{rule_file.name}\n  SUCCESS: {count} rules found" in output


def test_promtool_rejects_a_broken_config(tmp_path):
    """The tool tier can fail: a config promtool must refuse."""
    config = tmp_path / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 15 seconds\n")
    assert run("promtool", "check", "config", str(config)).returncode != 0


@pytest.mark.parametrize("rule_file", RULE_FILES, ids=lambda p: p.name)
def test_promtool_accepts_every_rule_file(rule_file):
    result = run("promtool", "check", "rules", str(rule_file))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("stack", STACKS)
def test_amtool_accepts_the_rendered_alertmanager_config(stack, tmp_path):
    config = tmp_path / "alertmanager.yml"
    config.write_text(rendered_files(stack)["alertmanager.yml"])
    result = run("amtool", "check-config", str(config))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def routing_rows():
    table = yaml.safe_load((ROOT / "tests/routing_table.yaml").read_text())
    return [(stack, row["labels"], row["receivers"]) for stack, rows in table.items() for row in rows]


@pytest.mark.parametrize(("stack", "labels", "receivers"), routing_rows())
def test_amtool_routes_like_the_table(stack, labels, receivers, tmp_path):
    config = tmp_path / "alertmanager.yml"
    config.write_text(rendered_files(stack)["alertmanager.yml"])
    label_args = [f"{k}={v}" for k, v in labels.items()]
    result = run(
        "amtool", "config", "routes", "test", f"--config.file={config}", f"--verify.receivers={','.join(receivers)}",
        *label_args,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_amtool_route_test_can_fail(tmp_path):
    config = tmp_path / "alertmanager.yml"
    config.write_text(rendered_files("dev")["alertmanager.yml"])
    result = run("amtool", "config", "routes", "test", f"--config.file={config}", "--verify.receivers=default",
                 "severity=critical")
    assert result.returncode != 0


RULE_TESTS = sorted(ROOT.glob("rules/tests/*_test.yml"))


@pytest.mark.parametrize("test_file", RULE_TESTS, ids=lambda p: p.name)
def test_promtool_rule_unit_tests_pass(test_file):
    result = subprocess.run(
        ["promtool", "test", "rules", test_file.name], cwd=test_file.parent, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_firing_and_a_silent_unit_test():
    alerts = {
        rule["alert"]: rule["expr"]
        for path in RULE_FILES
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }
    firing, silent = set(), set()
    for path in RULE_TESTS:
        for test in yaml.safe_load(path.read_text())["tests"]:
            for case in test.get("alert_rule_test") or []:
                (firing if case.get("exp_alerts") else silent).add(case["alertname"])
    assert sorted(set(alerts) - firing) == [], "alerts without a test that shows them firing"
    always_firing = {name for name, expr in alerts.items() if expr.strip() == "vector(1)"}
    assert sorted(set(alerts) - silent - always_firing) == [], "alerts without a test that shows them silent"


def test_promtool_rule_unit_tests_can_fail(tmp_path):
    (tmp_path / "rules.yml").write_text((ROOT / "rules/platform.yml").read_text())
    (tmp_path / "wrong_test.yml").write_text(
        "rule_files: [rules.yml]\ntests:\n  - interval: 1m\n    input_series: []\n    alert_rule_test:\n"
        "      - {eval_time: 1m, alertname: Watchdog, exp_alerts: []}\n"
    )
    result = subprocess.run(["promtool", "test", "rules", "wrong_test.yml"], cwd=tmp_path, capture_output=True)
    assert result.returncode != 0


def test_every_dashboard_query_parses_with_the_real_prometheus_parser(tmp_path):
    """promtool parses each dashboard PromQL expression, handed to it as a recording rule."""
    from stacks.content import prometheus_queries

    where, rules = [], []
    for dashboard in load_content().dashboards:
        for path, expr in prometheus_queries(dashboard.model):
            where.append(f"{dashboard.path.name}: {path}")
            rules.append({"record": f"dashboard:query:{len(rules)}", "expr": expr})
    assert len(rules) >= 20
    (tmp_path / "queries.yml").write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    result = run("promtool", "check", "rules", str(tmp_path / "queries.yml"))
    assert result.returncode == 0, f"{result.stdout}{result.stderr}\nrules by index: {where}"
    assert f"SUCCESS: {len(rules)} rules found" in result.stdout + result.stderr


def test_promtool_rejects_a_bad_dashboard_query(tmp_path):
    rules = [{"record": "dashboard:query:0", "expr": "sum(rate(x[5m])"}]
    (tmp_path / "queries.yml").write_text(yaml.safe_dump({"groups": [{"name": "d", "rules": rules}]}))
    assert run("promtool", "check", "rules", str(tmp_path / "queries.yml")).returncode != 0
