"""End to end with Grafana's content: the real engine, the docker AND grafana plugins, the dev stack.

Runs with `pytest --e2e` once the Grafana provider plugin can be built (README, "Status"); until
then tests/engine/test_e2e_containers.py proves the rest of the stack on the real engine. The tests
run in order on one deployment.
"""

from __future__ import annotations

import json

import pytest
from engine.stack import Stack, deployed_dev_stack, http_json, wait_for

from stacks.content import load_content

pytestmark = pytest.mark.e2e

PREFIX = "monitoring-e2e-grafana"
# Below 32768: Linux gives ports 32768-60999 to outgoing connections, which can take a test's port first.
PORTS = {"prometheus": 26391, "alertmanager": 26393, "loki": 26300, "promtail": 26380, "grafana": 26310}
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
def deployment(tmp_path_factory, webhooks):
    def webhook_url(path: str) -> str:
        return webhooks.url(path, host="host.docker.internal")

    workdir = tmp_path_factory.mktemp("project")
    for stack, password in deployed_dev_stack(workdir, tmp_path_factory.mktemp("state"), PREFIX, PORTS, webhook_url):
        # An always-firing Grafana-managed rule, to follow Grafana's own alert path to the webhook.
        (stack.workdir / "rules/grafana/e2e.yml").write_text(GRAFANA_TEST_RULE)
        yield stack, password


@pytest.fixture(scope="module")
def stack(deployment) -> Stack:
    return deployment[0]


def grafana(deployment, path: str):
    return http_json(f"http://127.0.0.1:{PORTS['grafana']}{path}", auth=("admin", deployment[1]))


def test_up_pushes_every_datasource_folder_dashboard_and_route(deployment):
    stack = deployment[0]
    stack.up()
    datasources = {d["uid"]: d for d in grafana(deployment, "/api/datasources")}
    assert set(datasources) == {"prometheus", "loki", "alertmanager"} and datasources["prometheus"]["isDefault"]
    content = load_content()
    assert {f["title"] for f in grafana(deployment, "/api/folders")} == set(content.folders)
    for dashboard in content.dashboards:
        stored = grafana(deployment, f"/api/dashboards/uid/{dashboard.uid}")
        assert stored["meta"]["folderTitle"] == dashboard.folder
    assert {c["name"] for c in grafana(deployment, "/api/v1/provisioning/contact-points")} >= {
        "default", "critical", "watchdog"}
    policy = grafana(deployment, "/api/v1/provisioning/policies")
    assert policy["receiver"] == "default"
    assert [r["receiver"] for r in policy["routes"]] == ["watchdog", "critical", "default"]
    rules = {r["title"] for r in grafana(deployment, "/api/v1/provisioning/alert-rules")}
    assert {"ErrorLogSurge", "ContainerLogsMissing", "E2EGrafanaManaged"} <= rules
    assert set(stack.outputs()["dashboardUrls"]) == {d.uid for d in content.dashboards}


def test_second_up_changes_nothing(stack):
    changed = [s for s in stack.preview_steps("--refresh") if s["op"] not in ("same", "refresh")]
    assert changed == [], [(s["op"], s["urn"]) for s in changed]


def test_editing_one_dashboard_changes_exactly_one_resource(deployment):
    stack = deployment[0]
    path = stack.workdir / "dashboards/MindHit/business-metrics.json"
    model = json.loads(path.read_text())
    model["refresh"] = "1m"
    path.write_text(json.dumps(model, indent=2))
    changes = [(s["op"], s["urn"].split("::")[-1]) for s in stack.preview_steps() if s["op"] != "same"]
    assert changes == [("update", "monitoring-grafana-content-dashboard-mindhit-business")]
    stack.up()
    assert grafana(deployment, "/api/dashboards/uid/mindhit-business")["dashboard"]["refresh"] == "1m"


def test_a_grafana_managed_alert_reaches_the_webhook_through_a_contact_point(stack, webhooks):
    # severity=warning: the policy sends it to the `default` contact point, like Alertmanager would.
    wait_for(lambda: "E2EGrafanaManaged" in webhooks.alertnames("/default"), 120, "the Grafana-managed alert")


def test_no_grafana_secret_is_in_plaintext_in_the_state(deployment, webhooks):
    state = deployment[0].state()
    assert deployment[1] not in state
    for receiver in ("/default", "/critical", "/watchdog"):
        assert webhooks.url(receiver, host="host.docker.internal") not in state
