"""The rendered configuration and the content, checked by the real promtool and amtool."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml
from conftest import STACKS
from rendering import rendered_files, stack_settings
from repo import ROOT, declared_rule_files
from routing import route_test, routing_rows
from servers import stack_release

from stacks.content import load_content, select_systems
from stacks.layout import APP_DISCOVERY_JOB, RULES_DIR

pytestmark = pytest.mark.tools
RULE_FILES = sorted(ROOT.glob("rules/*.yml"))


def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(("tool", "service"), [("promtool", "prometheus"), ("amtool", "alertmanager")])
def test_the_tools_are_the_releases_the_stack_deploys(tool, service):
    """Debian's promtool 2.42 passes SLO scenarios and rule tests that Prometheus 3.16 fails (its ranges are open
    on the left): the tier is only as true as the release it runs."""
    version = stack_release(service)
    result = run(tool, "--version")
    assert result.stdout.startswith(f"{tool}, version {version} "), (
        f"{shutil.which(tool)} is not {service} {version}'s {tool}: run scripts/setup.sh\n{result.stdout}"
    )


@pytest.mark.parametrize("stack", STACKS)
def test_promtool_accepts_the_rendered_prometheus_config(stack, tmp_path):
    # The rule files the stack deploys, generated SLO rules included, where the config can find them.
    settings = stack_settings(stack)
    deployed = select_systems(load_content(), settings.systems).rule_files
    rules = tmp_path / "rules"
    rules.mkdir()
    for rule_file in deployed:
        (rules / rule_file.name).write_text(rule_file.text)
    config = tmp_path / "prometheus.yml"
    config.write_text(rendered_files(stack)["prometheus.yml"].replace(RULES_DIR, str(rules)))
    assert f"job_name: {APP_DISCOVERY_JOB}\n  docker_sd_configs:" in config.read_text()  # checked with the rest
    result = run("promtool", "check", "config", str(config))
    assert result.returncode == 0, result.stdout + result.stderr
    output = result.stdout + result.stderr
    for rule_file in deployed:  # promtool followed rule_files to every file the stack ships
        count = sum(len(g["rules"]) for g in yaml.safe_load(rule_file.text)["groups"])
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
    shutil.copytree(ROOT / "templates", tmp_path / "templates")  # beside it, as in the container
    result = run("amtool", "check-config", str(config))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@pytest.mark.parametrize(("stack", "labels", "receivers"), routing_rows())
def test_amtool_routes_like_the_table(stack, labels, receivers, tmp_path):
    config = tmp_path / "alertmanager.yml"
    config.write_text(rendered_files(stack)["alertmanager.yml"])
    result = route_test(config, labels, receivers)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("stack", STACKS)
def test_the_table_routes_every_deployed_system_at_every_severity(stack):
    """Every stack routes by system: the table has a row for each system the stack file deploys (all of them
    when it names none, as dev) and the platform, at each severity the rules use, and one without a system."""
    config = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    systems = config.get("monitoring:systems") or sorted(p.stem for p in (ROOT / "systems").glob("*.yml"))
    rows = [labels for name, labels, _ in routing_rows() if name == stack]
    covered = {(labels.get("system"), labels.get("severity")) for labels in rows}
    for system in [*systems, "platform"]:
        for severity in ("critical", "warning", "info"):
            assert (system, severity) in covered, f"tests/routing_table.yaml: no {stack} row for {system} {severity}"
    assert any("system" not in labels for labels in rows)


@pytest.mark.parametrize("stack", STACKS)
def test_the_table_routes_every_grafana_managed_rule(stack):
    """Grafana's alerts take the same routes: each Grafana-managed rule has a row of its labels in every stack."""
    rows = [labels for name, labels, _ in routing_rows() if name == stack]
    for group in load_content().grafana_rule_groups:
        for rule in group.rules:
            labels = {"alertname": rule.alert, "grafana_folder": group.folder, **dict(rule.labels)}
            assert labels in rows, f"tests/routing_table.yaml: no {stack} row for {labels}"


def test_amtool_route_test_can_fail(tmp_path):
    config = tmp_path / "alertmanager.yml"
    config.write_text(rendered_files("dev")["alertmanager.yml"])
    result = route_test(config, {"severity": "critical"}, ["default"])
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
        for path in declared_rule_files()  # an imported file's alerts are tested by whoever wrote them
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
