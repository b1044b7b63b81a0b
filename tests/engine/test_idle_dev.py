"""Dev at rest, on the real engine: the dev stack with its agents (node-exporter and cAdvisor from their local
builds, on ports of their own) and every system's jobs scraped from the workload in its quiet mode
(tests/support/workload.py: healthy systems at rest, every metric of every contract), through the real Pulumi engine,
docker plugin, Prometheus and Alertmanager. The Watchdog is the only alert pending or firing, and the only one any
receiver gets. Loki, Promtail and Grafana do not run here (AGPL, docs/building-without-registries.md, "Never built
or downloaded"): their rules have no series to read.
"""

from __future__ import annotations

import time

import pytest
from engine_stack import PERMITTED_SERVICES, deployed_dev_stack
from polling import http_json, wait_for
from repo import ROOT
from servers import free_port
from workload import Workload, WorkloadServer, load_metrics

pytestmark = pytest.mark.engine

PREFIX = "monitoring-idle"
PORTS = {"prometheus": 25391, "alertmanager": 25393}
AGENT_PORTS = {"node-exporter": 25400, "cadvisor": 25480}
# After every target is up: APIUnresponsive's floor (rate over 5 m above 1/s) holds once a minute of samples
# is extrapolated over its window; then the alerts are read for a minute.
SETTLE, OBSERVE = 120, 60


@pytest.fixture(scope="module")
def workload():
    with WorkloadServer(Workload(load_metrics(ROOT / "systems"), quiet=True), free_port(), host="0.0.0.0") as server:
        yield server


@pytest.fixture(scope="module")
def stack(tmp_path_factory, webhooks, workload):
    targets = [
        {"job": job, "targets": [f"host.docker.internal:{workload.port}"], "metricsPath": f"/metrics/{job}"}
        for job in workload.workload.jobs()
    ]
    yield from deployed_dev_stack(
        tmp_path_factory.mktemp("project"),
        tmp_path_factory.mktemp("state"),
        PREFIX,
        PORTS,
        lambda path: webhooks.url(path, host="host.docker.internal"),
        hosts=[{"name": "local", "ports": AGENT_PORTS}],
        scrapeTargets=targets,
    )


def active_alerts(prometheus: str) -> set[tuple[str, str]]:
    """(alertname, state) of every alert pending or firing."""
    alerts = http_json(f"{prometheus}/api/v1/alerts")["data"]["alerts"]
    return {(alert["labels"]["alertname"], alert["state"]) for alert in alerts}


def test_at_rest_only_the_watchdog_fires(stack, webhooks, workload):
    assert PERMITTED_SERVICES["services"] == ["prometheus", "alertmanager"]
    stack.up()
    prometheus = f"http://127.0.0.1:{PORTS['prometheus']}"
    jobs = {"prometheus", "alertmanager", "node-exporter", "cadvisor", *workload.workload.jobs()}

    def every_target_up() -> bool:
        targets = http_json(f"{prometheus}/api/v1/targets")["data"]["activeTargets"]
        up = {t["labels"]["job"] for t in targets if t["health"] == "up"}
        return jobs <= up

    wait_for(every_target_up, 180, f"the {len(jobs)} jobs up")
    delivered_before = len(webhooks.received)
    time.sleep(SETTLE)
    seen: set[tuple[str, str]] = set()
    deadline = time.time() + OBSERVE
    while time.time() < deadline:
        seen |= active_alerts(prometheus)
        time.sleep(5)
    print(f"\nidle dev, {len(jobs)} jobs up: alerts pending or firing over {OBSERVE} s: {sorted(seen)}")
    assert {name for name, _ in seen} == {"Watchdog"}
    delivered = {
        alert["labels"]["alertname"]
        for _, body in webhooks.received[delivered_before:]
        for alert in body.get("alerts", [])
        if alert.get("status") == "firing"
    }
    assert delivered <= {"Watchdog"}
