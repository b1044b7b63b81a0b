"""The real Prometheus and Alertmanager processes, on loopback ports, running the rendered configuration.

An always-firing test rule goes Prometheus -> Alertmanager -> a webhook receiver served here, and
the receiver that gets it is the one the route tree names; the inhibit rule holds back a warning.
"""

from __future__ import annotations

import math
import time
import urllib.parse
import urllib.request

import pytest
import yaml
from polling import http_json, wait_for
from rendering import dev_settings
from repo import ROOT
from servers import free_port, ready, stack_binary, start_alertmanager

from stacks.render.alertmanager import render_alertmanager_config
from stacks.render.prometheus import render_prometheus_config
from stacks.syntax.durations import parse_duration

pytestmark = pytest.mark.live

TEST_RULES = """
groups:
  - name: live-test
    rules:
      - alert: LiveTestCritical
        expr: vector(1)
        labels: {severity: critical}
        annotations: {summary: always firing, description: the live test's critical alert}
      - alert: LiveTestWarning
        expr: vector(1)
        labels: {severity: warning}
        annotations: {summary: always firing, description: the live test's warning alert}
      # The same alert name at both severities: the inhibit rule must hold the warning back.
      # The warning starts later, so the critical is already in Alertmanager (as in real life).
      - alert: LiveTestPair
        expr: vector(1)
        labels: {severity: critical}
      - alert: LiveTestPair
        expr: vector(2)
        for: 5s
        labels: {severity: warning}
"""
PAIR = "LiveTestPair"
# What a busy machine may add to a step that should take no time: a rule evaluation, a notification.
MARGIN = 3.0


def seconds(duration: str) -> float:
    return parse_duration(duration) / 1000


def rule_of(name: str, severity: str) -> dict:
    return next(
        rule
        for group in yaml.safe_load(TEST_RULES)["groups"]
        for rule in group["rules"]
        if rule["alert"] == name and rule["labels"]["severity"] == severity
    )


def test_an_alert_reaches_the_receiver_the_route_tree_names(tmp_path, processes, webhooks):
    """One Prometheus notifies two Alertmanagers: the stack's (`/stack/...` webhooks) and a control that
    runs the same config without the inhibit rules (`/control/...`). The control delivering the warning
    proves Prometheus sent it; the stack's Alertmanager must hold it back, and only it."""
    settings = dev_settings(webhooks, "/stack")
    control = dev_settings(webhooks, "/control", inhibit=False)
    assert settings.alerting.inhibit_rules and not control.alerting.inhibit_rules
    am_port = start_alertmanager(processes, tmp_path / "alertmanager", render_alertmanager_config(settings.alerting))
    control_port = start_alertmanager(processes, tmp_path / "control", render_alertmanager_config(control.alerting))

    # The rendered prometheus.yml names its peers by their container names; here they are on loopback.
    prom_port = free_port()
    prometheus_yml = yaml.safe_load(render_prometheus_config(settings))
    prometheus_yml["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] = [
        f"127.0.0.1:{am_port}",
        f"127.0.0.1:{control_port}",
    ]
    (tmp_path / "live-test.yml").write_text(TEST_RULES)
    prometheus_yml["rule_files"] = [
        str(tmp_path / "live-test.yml"),
        str(ROOT / "rules/mindhit.yml"),
    ]
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(prometheus_yml))
    processes(
        stack_binary("prometheus"),
        f"--config.file={tmp_path / 'prometheus.yml'}",
        f"--storage.tsdb.path={tmp_path / 'prometheus-data'}",
        f"--web.listen-address=127.0.0.1:{prom_port}",
        # Alerts evaluated before the notifier has found Alertmanager are dropped: resend soon. An alert's
        # endsAt is 4 x max(resend delay, evaluation interval) = 20 s, so a busy machine cannot expire it.
        "--rules.alert.resend-delay=1s",
        log=tmp_path / "prometheus.log",
    )
    wait_for(lambda: ready(f"http://127.0.0.1:{prom_port}/-/ready"), 30, "Prometheus to be ready", interval=0.25)

    # The timings this test set. Once the critical is delivered, the warning reaches Alertmanager within
    # its `for` rounded up to whole evaluations, and a new group (group_by has severity) is delivered
    # group_wait after its first alert: past `bound`, an uninhibited warning has been delivered.
    evaluation = seconds(settings.prometheus.evaluation_interval)
    route = settings.alerting.route
    group_wait, group_interval = seconds(route.group_wait), seconds(route.group_interval)
    warning_for = seconds(rule_of(PAIR, "warning")["for"])
    bound = math.ceil(warning_for / evaluation) * evaluation + group_wait + MARGIN

    critical, warning = ("/stack/critical", PAIR, "critical"), ("/stack/default", PAIR, "warning")
    control_warning = ("/control/default", PAIR, "warning")
    wait_for(lambda: critical in webhooks.firing(), 60, f"the webhook {critical}", interval=0.1)
    delivered_critical = time.monotonic()

    # Without the inhibit rule the warning is delivered within the bound: Prometheus did send it.
    wait_for(
        lambda: control_warning in webhooks.firing(),
        bound,
        f"the control's webhook {control_warning} within {bound}s of the critical",
        interval=0.1,
    )
    delivered_control = time.monotonic()
    # With it, the warning is held back for the whole bound, and for group_wait and a group_interval
    # (plus the margin) past the moment it is known to be in Alertmanager.
    hold_until = max(delivered_critical + bound, delivered_control + group_wait + group_interval + MARGIN)
    while time.monotonic() < hold_until:
        held = time.monotonic() - delivered_critical
        assert warning not in webhooks.firing(), f"the inhibited warning was delivered {held:.1f}s after the critical"
        time.sleep(0.1)
    assert warning not in webhooks.firing()

    # The stack's Alertmanager has the warning and says the critical inhibits it.
    query = urllib.parse.urlencode({"filter": f'alertname="{PAIR}"'})
    alerts = http_json(f"http://127.0.0.1:{am_port}/api/v2/alerts?{query}")
    by_severity = {alert["labels"]["severity"]: alert for alert in alerts}
    assert by_severity["warning"]["status"]["state"] == "suppressed", alerts
    assert by_severity["warning"]["status"]["inhibitedBy"] == [by_severity["critical"]["fingerprint"]], alerts

    # Every other alert went to the receiver the route tree names, in both; only the control has the warning.
    expected = {
        ("critical", "LiveTestCritical", "critical"),
        ("default", "LiveTestWarning", "warning"),
        ("critical", PAIR, "critical"),
    }
    wait_for(
        lambda: (
            {(f"/{prefix}/{path}", *rest) for prefix in ("stack", "control") for path, *rest in expected}
            <= webhooks.firing()
        ),
        30,
        f"the webhooks {expected}",
        interval=0.25,
    )
    assert webhooks.firing() == {
        (f"/{prefix}/{path}", *rest) for prefix in ("stack", "control") for path, *rest in expected
    } | {control_warning}, webhooks.firing()

    # Alertmanager runs the rendered tree: the API shows the receivers the stack declared.
    status = http_json(f"http://127.0.0.1:{am_port}/api/v2/status")
    assert "receiver: critical" in status["config"]["original"]
    assert "inhibit_rules:" in status["config"]["original"]
