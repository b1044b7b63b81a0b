"""The real Prometheus and Alertmanager processes, on loopback ports, running the rendered configuration.

An always-firing test rule goes Prometheus -> Alertmanager -> a webhook receiver served here, and
the receiver that gets it is the one the route tree names; the inhibit rule holds back a warning.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from conftest import configured_stack
from engine.stack import wait_for
from webhooks import WebhookReceiver

from stacks.render.alertmanager import render_alertmanager_config
from stacks.render.prometheus import render_prometheus_config
from stacks.settings import load_settings

pytestmark = pytest.mark.live
PROMETHEUS = shutil.which("prometheus")
ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture
def processes():
    started: list[subprocess.Popen] = []

    def start(*command: str, log: Path) -> subprocess.Popen:
        process = subprocess.Popen(command, stdout=log.open("w"), stderr=subprocess.STDOUT)
        started.append(process)
        return process

    yield start
    for process in started:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.mark.skipif(not (PROMETHEUS and ALERTMANAGER), reason="scripts/setup.sh installs prometheus and alertmanager")
def test_an_alert_reaches_the_receiver_the_route_tree_names(tmp_path, processes):
    webhooks = WebhookReceiver()
    config, secret_keys = configured_stack("dev")
    alerting = config["monitoring:alerting"]
    alerting["receivers"][0]["webhooks"][0]["url"] = webhooks.url("/default")
    alerting["receivers"][1]["webhooks"][0]["url"] = webhooks.url("/critical")
    alerting["route"].update(groupWait="1s", groupInterval="1s")  # the seed's 30s would only slow the test
    config["monitoring:prometheus"] = {"evaluationInterval": "5s", "scrapeInterval": "5s"}
    settings = load_settings(config, frozenset(secret_keys))

    am_port, prom_port = free_port(), free_port()
    (tmp_path / "alertmanager.yml").write_text(render_alertmanager_config(settings.alerting))
    processes(
        ALERTMANAGER,
        f"--config.file={tmp_path / 'alertmanager.yml'}",
        f"--storage.path={tmp_path / 'alertmanager-data'}",
        f"--web.listen-address=127.0.0.1:{am_port}",
        "--cluster.listen-address=",
        log=tmp_path / "alertmanager.log",
    )
    wait_for(lambda: ready(f"http://127.0.0.1:{am_port}/-/ready"), 30, "Alertmanager to be ready", interval=0.25)

    # The rendered prometheus.yml names its peers by their container names; here they are on loopback.
    prometheus_yml = yaml.safe_load(render_prometheus_config(settings, ["mindhit.yml"]))
    prometheus_yml["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] = [f"127.0.0.1:{am_port}"]
    (tmp_path / "live-test.yml").write_text(TEST_RULES)
    prometheus_yml["rule_files"] = [str(tmp_path / "live-test.yml"), str(Path(__file__).parents[1] / "rules/mindhit.yml")]
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(prometheus_yml))
    processes(
        PROMETHEUS,
        f"--config.file={tmp_path / 'prometheus.yml'}",
        f"--storage.tsdb.path={tmp_path / 'prometheus-data'}",
        f"--web.listen-address=127.0.0.1:{prom_port}",
        # Alerts evaluated before the notifier has found Alertmanager are dropped: resend soon. An alert's
        # endsAt is 4 x max(resend delay, evaluation interval) = 20 s, so a busy machine cannot expire it.
        "--rules.alert.resend-delay=1s",
        log=tmp_path / "prometheus.log",
    )
    wait_for(lambda: ready(f"http://127.0.0.1:{prom_port}/-/ready"), 30, "Prometheus to be ready", interval=0.25)

    expected = {("/critical", "LiveTestCritical", "critical"), ("/default", "LiveTestWarning", "warning"),
                ("/critical", "LiveTestPair", "critical")}
    wait_for(lambda: expected <= webhooks.firing(), 60, f"the webhooks {expected}", interval=0.25)
    time.sleep(10)  # past the warning's `for` and a group interval: give the inhibited warning its chance to be wrong
    assert webhooks.firing() == expected, webhooks.firing()

    # Alertmanager runs the rendered tree: the API shows the receivers the stack declared.
    with urllib.request.urlopen(f"http://127.0.0.1:{am_port}/api/v2/status") as response:
        status = json.load(response)
    assert "receiver: critical" in status["config"]["original"]
    webhooks.close()
