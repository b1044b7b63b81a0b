"""End to end: the real Pulumi engine and plugins against a local Docker engine, on the dev stack.

The tests run in order on one deployment (module fixture): preview, up, a no-op up, edits, the alert
and log paths, the state file, and destroy last.
"""

from __future__ import annotations

import json
import time
import urllib.parse
import uuid

import pytest
from webhooks import WebhookReceiver
from engine.stack import Stack, docker, http_json, new_stack, project_copy, wait_for

pytestmark = pytest.mark.e2e

PREFIX = "monitoring-e2e"
# Ports of their own, so a developer's dev stack on the same host is left alone.
PORTS = {"prometheus": 39091, "alertmanager": 39093, "loki": 33100, "promtail": 39080, "grafana": 33010}
ADMIN_PASSWORD = "e2e-Admin-pw-" + uuid.uuid4().hex[:8]
SERVICES = ("prometheus", "alertmanager", "loki", "promtail", "grafana")
GRAFANA_TEST_RULE = """
groups:
  - name: e2e
    folder: Platform
    interval: 10s
    rules:
      - alert: E2EGrafanaManaged
        datasource: prometheus
        expr: vector(1)
        condition: "> 0"
        for: 0s
        labels: {severity: warning}
        annotations: {summary: always firing}
"""


@pytest.fixture(scope="module")
def webhooks():
    hooks = WebhookReceiver("0.0.0.0")  # containers come in over the Docker bridge
    yield hooks
    hooks.close()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, webhooks) -> Stack:
    workdir = project_copy(tmp_path_factory.mktemp("project"))
    stack = new_stack(workdir, "dev", tmp_path_factory.mktemp("state"))

    def configure(config: dict) -> None:
        config["monitoring:namePrefix"] = PREFIX
        config["monitoring:ports"] = PORTS
        config["monitoring:prometheus"] = {"scrapeInterval": "5s", "evaluationInterval": "5s"}
        alerting = config["monitoring:alerting"]
        for receiver in alerting["receivers"]:
            receiver["webhooks"][0]["url"] = webhooks.url(f"/{receiver['name']}", host="host.docker.internal")
        alerting["route"].update(groupWait="1s", groupInterval="5s")

    stack.edit_config(configure)
    # An always-firing Grafana-managed rule, to follow Grafana's own alert path to the webhook.
    (workdir / "rules/grafana/e2e.yml").write_text(GRAFANA_TEST_RULE)
    stack.set_config("grafanaAdminPassword", ADMIN_PASSWORD, secret=True)
    yield stack
    # Whatever happened, leave no container, network or volume of the test behind.
    stack.pulumi("destroy", "--yes", "--skip-preview", check=False)
    for kind in ("container", "network", "volume"):
        names = docker(kind, "ls", "-q", "--filter", f"name={PREFIX}", check=False).stdout.split()
        if names:
            docker(kind, "rm", "-f", *names, check=False) if kind == "container" else docker(kind, "rm", *names, check=False)


def url(service: str, path: str = "") -> str:
    return f"http://127.0.0.1:{PORTS[service]}{path}"


def grafana(path: str):
    return http_json(url("grafana", path), auth=("admin", ADMIN_PASSWORD))


def test_preview_lists_the_expected_creates(stack):
    steps = stack.preview_steps()
    creates = {(s["newState"]["type"], s["urn"].split("::")[-1]) for s in steps if s["op"] == "create"}
    for service in SERVICES:
        assert ("docker:index/container:Container", f"monitoring-{service}-container") in creates
        assert ("docker:index/volume:Volume", f"monitoring-{service}-data") in creates
    assert ("docker:index/network:Network", "monitoring-network") in creates
    kinds = {t for t, _ in creates}
    assert {"grafana:oss/dashboard:Dashboard", "grafana:oss/dataSource:DataSource", "grafana:oss/folder:Folder",
            "grafana:alerting/contactPoint:ContactPoint",
            "grafana:alerting/notificationPolicy:NotificationPolicy"} <= kinds
    assert {s["op"] for s in steps} <= {"create", "same"}


def test_up_brings_every_service_healthy_with_its_content(stack):
    stack.up()
    for service in SERVICES:
        state = docker("inspect", "-f", "{{.State.Health.Status}}", f"{PREFIX}-{service}").stdout.strip()
        assert state == "healthy", service
    datasources = {d["uid"]: d for d in grafana("/api/datasources")}
    assert set(datasources) == {"prometheus", "loki", "alertmanager"} and datasources["prometheus"]["isDefault"]
    assert {f["title"] for f in grafana("/api/folders")} == {"MindHit", "Platform"}
    groups = grafana("/api/v1/provisioning/alert-rules")
    assert {"ErrorLogSurge", "ContainerLogsMissing", "E2EGrafanaManaged"} <= {r["title"] for r in groups}
    for uid in ("mindhit-api-overview", "mindhit-business", "mindhit-ai-worker", "mindhit-infra"):
        assert grafana(f"/api/dashboards/uid/{uid}")["meta"]["folderTitle"] == "MindHit"
    assert {c["name"] for c in grafana("/api/v1/provisioning/contact-points")} >= {"default", "critical"}
    policy = grafana("/api/v1/provisioning/policies")
    assert policy["receiver"] == "default" and [r["receiver"] for r in policy["routes"]] == ["critical", "default"]

    rules = http_json(url("prometheus", "/api/v1/rules"))["data"]["groups"]
    assert {"mindhit-api", "mindhit-ai", "mindhit-worker", "mindhit-infrastructure"} <= {g["name"] for g in rules}

    def components_up():
        targets = http_json(url("prometheus", "/api/v1/targets"))["data"]["activeTargets"]
        health = {t["labels"]["job"]: t["health"] for t in targets}
        return all(health.get(job) == "up" for job in SERVICES) and health
    wait_for(components_up, 60, "every stack component's scrape target to be up")

    status = http_json(url("alertmanager", "/api/v2/status"))
    assert "receiver: critical" in status["config"]["original"]
    outputs = stack.outputs()
    assert outputs["urls"]["grafana"] == url("grafana")
    assert set(outputs["dashboardUrls"]) == {"mindhit-api-overview", "mindhit-business", "mindhit-ai-worker",
                                             "mindhit-infra"}


def test_second_up_changes_nothing(stack):
    changes = [s for s in stack.preview_steps("--refresh") if s["op"] != "same"]
    assert changes == [], [(s["op"], s["urn"]) for s in changes]
    stack.pulumi("up", "--yes", "--expect-no-changes")


def test_editing_one_dashboard_changes_exactly_one_resource(stack):
    path = stack.workdir / "dashboards/MindHit/business-metrics.json"
    model = json.loads(path.read_text())
    model["refresh"] = "1m"
    path.write_text(json.dumps(model, indent=2))
    changes = [(s["op"], s["urn"].split("::")[-1]) for s in stack.preview_steps() if s["op"] != "same"]
    assert changes == [("update", "monitoring-grafana-content-dashboard-mindhit-business")]
    stack.up()
    assert grafana("/api/dashboards/uid/mindhit-business")["dashboard"]["refresh"] == "1m"


def test_editing_a_rule_file_replaces_only_prometheus_and_keeps_its_data(stack):
    scraped_at = time.time()
    wait_for(lambda: http_json(url("prometheus", "/api/v1/query?query=up"))["data"]["result"], 30, "a scraped series")
    time.sleep(6)  # at least one more scrape, so the sample is in the TSDB head and WAL

    path = stack.workdir / "rules/mindhit.yml"
    path.write_text(path.read_text().replace("> 100", "> 200"))
    changed = {(s["op"], s["urn"].split("::")[-1]) for s in stack.preview_steps() if s["op"] != "same"}
    replaced = {name for op, name in changed if op in ("replace", "create-replacement", "delete-replaced")}
    assert replaced == {"monitoring-prometheus-container"}, changed
    assert {name for _, name in changed} == {"monitoring-prometheus-container"}, changed
    stack.up()

    query = urllib.parse.urlencode({"query": 'up{job="prometheus"}', "time": f"{scraped_at + 3:.3f}"})
    result = wait_for(lambda: http_json(url("prometheus", f"/api/v1/query?{query}"))["data"]["result"], 60,
                      "the series scraped before the replacement")
    assert result[0]["value"][1] == "1"


def test_watchdog_reaches_the_webhook_through_alertmanager(stack, webhooks):
    wait_for(lambda: "Watchdog" in webhooks.alertnames("/watchdog"), 90, "the Watchdog alert at /watchdog")


def test_a_grafana_managed_alert_reaches_the_webhook_through_a_contact_point(stack, webhooks):
    # severity=warning: the policy sends it to the `default` contact point, like Alertmanager would.
    wait_for(lambda: "E2EGrafanaManaged" in webhooks.alertnames("/default"), 120, "the Grafana-managed alert")


def test_a_container_log_line_is_queryable_in_loki(stack):
    marker = f"e2e-{uuid.uuid4().hex}"
    line = json.dumps({"level": "error", "msg": marker, "request_id": "r-1", "user_id": "u-1"})
    name = f"{PREFIX}-logger"
    docker("run", "-d", "--name", name, "--label", "com.docker.compose.service=logger", "--entrypoint", "sh",
           "prom/prometheus:v3.14.0", "-c", f"echo '{line}'; sleep 60")
    try:
        start = time.monotonic()
        query = urllib.parse.urlencode({"query": f'{{container="{name}"}} |= "{marker}"', "limit": "10",
                                        "start": str(int((time.time() - 300) * 1e9))})
        streams = wait_for(lambda: http_json(url("loki", f"/loki/api/v1/query_range?{query}"))["data"]["result"],
                           30, "the log line in Loki")
        assert time.monotonic() - start <= 30
        labels = streams[0]["stream"]
        assert labels["service"] == "logger" and labels["level"] == "error"
        assert "request_id" not in labels and "user_id" not in labels
    finally:
        docker("rm", "-f", name, check=False)


def test_no_secret_is_in_plaintext_in_the_state(stack, webhooks):
    state = stack.state()
    assert ADMIN_PASSWORD not in state
    for path in ("/default", "/critical", "/watchdog"):
        assert webhooks.url(path, host="host.docker.internal") not in state


def test_destroy_removes_containers_and_network_but_protected_volumes_survive(stack):
    stack.edit_config(lambda config: config.update({"monitoring:protectVolumes": True}))
    stack.up()
    stack.pulumi("destroy", "--yes", "--skip-preview")
    assert docker("ps", "-a", "-q", "--filter", f"name={PREFIX}").stdout.strip() == ""
    assert docker("network", "ls", "-q", "--filter", f"name={PREFIX}").stdout.strip() == ""
    volumes = set(docker("volume", "ls", "-q", "--filter", f"name={PREFIX}").stdout.split())
    assert volumes == {f"{PREFIX}-{s}-data" for s in SERVICES}

