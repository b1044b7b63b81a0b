"""The real images on a real Docker engine, running the rendered configuration (through docker-compose).

The same images, files, volumes, ports and healthchecks as the Pulumi components (stacks/render/
compose.py), so this proves the configuration against Prometheus 3, Alertmanager, Loki 3, Promtail
and Grafana themselves: health, scraping, rules, the alert path, log shipping, data on volumes.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
import uuid
from base64 import b64encode
from pathlib import Path

import pytest
from conftest import configured_stack
from engine.stack import http_json, ship_a_log_line, wait_for, wait_for_component_targets

from stacks.alerting import Route
from stacks.content import GrafanaRule, load_content, slug
from stacks.grafana_content import DATASOURCES
from stacks.render.compose import render_compose
from stacks.render.grafana import grafana_rule_queries
from stacks.settings import docker_socket_group, load_settings
from stacks.versions import IMAGES

pytestmark = pytest.mark.containers
PROJECT = "monitoring-ct"
# Below 32768: Linux gives ports 32768-60999 to outgoing connections, which can take a test's port first.
PORTS = {"prometheus": 24091, "alertmanager": 24093, "loki": 24100, "promtail": 24080, "grafana": 24010}
SERVICES = tuple(PORTS)
ADMIN_PASSWORD = "ct-Admin-pw-" + uuid.uuid4().hex[:8]


def compose(workdir: Path, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    result = subprocess.run(
        ["docker-compose", "-p", PROJECT, *args], cwd=workdir, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True, timeout=120).stdout.strip()


def health(service: str) -> str:
    return docker("inspect", "-f", "{{.State.Health.Status}}", f"{PROJECT}-{service}")


def url(service: str, path: str) -> str:
    return f"http://127.0.0.1:{PORTS[service]}{path}"


@pytest.fixture(scope="module")
def settings(webhooks):
    """The dev stack's settings with this test's names, ports and password, receivers on `webhooks`."""
    config, secret_keys = configured_stack("dev")
    config.update({"monitoring:namePrefix": PROJECT, "monitoring:ports": PORTS})
    config["monitoring:grafanaAdminPassword"] = ADMIN_PASSWORD
    config["monitoring:prometheus"] = {"scrapeInterval": "5s", "evaluationInterval": "5s"}
    alerting = config["monitoring:alerting"]
    for receiver in alerting["receivers"]:
        receiver["webhooks"][0]["url"] = webhooks.url(f"/{receiver['name']}", host="host.docker.internal")
    alerting["route"].update(groupWait="1s", groupInterval="5s")
    return load_settings(config, frozenset([*secret_keys, "monitoring:grafanaAdminPassword"]))


@pytest.fixture(scope="module")
def stack(tmp_path_factory, settings):
    workdir = tmp_path_factory.mktemp("compose")
    compose_file, files = render_compose(settings, load_content(), IMAGES, docker_socket_group(settings))
    (workdir / "docker-compose.yml").write_text(compose_file)
    for path, text in files.items():
        (workdir / path).parent.mkdir(parents=True, exist_ok=True)
        (workdir / path).write_text(text)
    compose(workdir, "down", "-v", "--remove-orphans")  # leftovers of an interrupted run
    compose(workdir, "up", "-d")
    try:
        wait_for(lambda: all(health(s) == "healthy" for s in SERVICES), 240, "every container to be healthy")
        yield workdir
    finally:
        compose(workdir, "down", "-v", "--remove-orphans")
        shutil.rmtree(workdir, ignore_errors=True)


def test_every_container_runs_its_pinned_image_and_is_healthy(stack):
    for service in SERVICES:
        assert docker("inspect", "-f", "{{.Config.Image}}", f"{PROJECT}-{service}") == IMAGES[service]
        assert health(service) == "healthy"


def test_prometheus_scrapes_every_component_and_loaded_the_rules(stack):
    wait_for_component_targets(url("prometheus", ""), SERVICES)
    shipped = {group for f in load_content().rule_files for group in f.groups}
    assert {"platform-watchdog", "slo-kerp-api-availability", "slo-mindhit-api-latency"} <= shipped

    def health_once_every_group_evaluated():
        groups = http_json(url("prometheus", "/api/v1/rules"))["data"]["groups"]
        health = {g["name"]: {r["health"] for r in g["rules"]} for g in groups}
        return health if set(health) == shipped and all("unknown" not in h for h in health.values()) else None

    # Every group, generated SLO rules included, loaded and evaluated by the real Prometheus without an error.
    evaluated = wait_for(health_once_every_group_evaluated, 60, "every rule group to be evaluated")
    assert {name: health for name, health in evaluated.items() if health != {"ok"}} == {}


def test_the_watchdog_goes_through_alertmanager_to_its_receiver(stack, webhooks):
    wait_for(lambda: "Watchdog" in webhooks.alertnames("/watchdog"), 90, "the Watchdog at /watchdog")
    assert "Watchdog" not in webhooks.alertnames("/default")


def test_a_json_log_line_reaches_loki_with_bounded_labels(stack):
    labels, line, seconds = ship_a_log_line(url("loki", ""), PROJECT, IMAGES["prometheus"])
    assert seconds <= 30
    assert (labels["service"], labels["level"], labels["environment"]) == ("logger", "error", "dev")
    assert not {"request_id", "user_id"} & set(labels)
    assert '"request_id": "req-1"' in line  # still in the line, searchable


def test_grafana_takes_the_admin_password_and_refuses_anonymous_access(stack):
    assert http_json(url("grafana", "/api/health"))["database"] == "ok"
    user = http_json(url("grafana", "/api/user"), auth=("admin", ADMIN_PASSWORD))
    assert user["login"] == "admin"
    with pytest.raises(Exception, match="401"):
        http_json(url("grafana", "/api/search"))
    with pytest.raises(Exception, match="401"):
        http_json(url("grafana", "/api/user"), auth=("admin", "admin"))


def test_prometheus_data_survives_a_new_container(stack):
    query = urllib.parse.urlencode({"query": 'up{job="prometheus"}', "time": f"{time.time():.3f}"})
    wait_for(lambda: http_json(url("prometheus", f"/api/v1/query?{query}"))["data"]["result"], 30, "a sample")
    before = docker("inspect", "-f", "{{.Id}}", f"{PROJECT}-prometheus")
    compose(stack, "up", "-d", "--force-recreate", "--no-deps", "prometheus")
    assert docker("inspect", "-f", "{{.Id}}", f"{PROJECT}-prometheus") != before
    wait_for(lambda: health("prometheus") == "healthy", 120, "the new Prometheus to be healthy")
    result = http_json(url("prometheus", f"/api/v1/query?{query}"))["data"]["result"]
    assert result and result[0]["value"][1] == "1", "the sample scraped before the new container is gone"


def test_alertmanager_silences_survive_a_new_container(stack):
    now = time.time()
    silence = {
        "matchers": [{"name": "alertname", "value": "ContainersTierSilence", "isRegex": False, "isEqual": True}],
        "startsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
        "endsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 3600)),
        "createdBy": "tests", "comment": "must outlive the container",
    }
    silence_id = http_json(url("alertmanager", "/api/v2/silences"), data=silence)["silenceID"]
    time.sleep(1)
    compose(stack, "stop", "alertmanager")  # a clean stop writes the silences snapshot to the volume
    compose(stack, "up", "-d", "--force-recreate", "--no-deps", "alertmanager")
    wait_for(lambda: health("alertmanager") == "healthy", 120, "the new Alertmanager to be healthy")
    silences = http_json(url("alertmanager", "/api/v2/silences"))
    assert silence_id in {s["id"] for s in silences}


def test_grafana_accepts_the_datasources_and_every_dashboard(stack):
    """What the Grafana provider sends, through Grafana's own HTTP API (the provider cannot be built here)."""
    auth = ("admin", ADMIN_PASSWORD)
    for _, name, kind, uid, target, is_default, json_data in DATASOURCES:
        http_json(url("grafana", "/api/datasources"), auth=auth, data={
            "name": name, "type": kind, "uid": uid, "url": target, "access": "proxy",
            "isDefault": is_default, "jsonData": json_data,
        })
    # Grafana reaches Prometheus and Loki at the datasources' URLs, on the stack network.
    assert http_json(url("grafana", "/api/datasources/proxy/uid/prometheus/api/v1/query?query=up"), auth=auth)[
        "status"] == "success"
    assert "service" in http_json(url("grafana", "/api/datasources/proxy/uid/loki/loki/api/v1/labels"), auth=auth)[
        "data"]
    content = load_content()
    for folder in content.folders:
        http_json(url("grafana", "/api/folders"), auth=auth, data={"uid": slug(folder), "title": folder})
    for dashboard in content.dashboards:
        saved = http_json(url("grafana", "/api/dashboards/db"), auth=auth, data={
            "dashboard": json.loads(dashboard.config_json), "folderUid": slug(dashboard.folder), "overwrite": True,
        })
        assert saved["status"] == "success" and saved["uid"] == dashboard.uid
        stored = http_json(url("grafana", f"/api/dashboards/uid/{dashboard.uid}"), auth=auth)
        assert stored["dashboard"]["title"] == dashboard.title and stored["meta"]["folderTitle"] == dashboard.folder


def grafana_api(method: str, path: str, body: dict | None = None):
    """Grafana's HTTP API as the admin; provisioning calls marked editable, as the provider marks them."""
    request = urllib.request.Request(url("grafana", path), method=method,
                                     data=json.dumps(body).encode() if body is not None else None)
    request.add_header("Content-Type", "application/json")
    request.add_header("X-Disable-Provenance", "true")
    request.add_header("Authorization", "Basic " + b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode())
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read()
    return json.loads(text) if text else None


def policy_tree(route: Route) -> dict:
    """The notification policy the program sends (stacks/grafana_content.py), in the API's JSON."""
    node: dict = {"receiver": route.receiver} if route.receiver else {}
    if route.matchers:
        node["object_matchers"] = [[m.label, m.op, m.value] for m in route.matchers]
    if route.group_by is not None:
        node["group_by"] = list(route.group_by)
    for key in ("group_wait", "group_interval", "repeat_interval"):
        if getattr(route, key):
            node[key] = getattr(route, key)
    if route.continue_:
        node["continue"] = True
    if route.routes:
        node["routes"] = [policy_tree(child) for child in route.routes]
    return node


def test_a_grafana_managed_alert_goes_through_its_contact_point_to_the_receiver(stack, settings, webhooks):
    """The stack's contact points and policy tree, and a rule with the queries stacks/render/grafana.py builds:
    Grafana evaluates it on Prometheus and notifies the receiver the policy routes it to."""
    for _, name, kind, uid, target, is_default, json_data in DATASOURCES:
        if not any(d["uid"] == uid for d in grafana_api("GET", "/api/datasources")):
            grafana_api("POST", "/api/datasources", {"name": name, "type": kind, "uid": uid, "url": target,
                                                     "access": "proxy", "isDefault": is_default, "jsonData": json_data})
    for receiver in settings.alerting.receivers:
        webhook = receiver.webhooks[0]
        grafana_api("POST", "/api/v1/provisioning/contact-points", {
            "name": receiver.name, "type": "webhook", "settings": {"url": webhook.url},
            "disableResolveMessage": not webhook.send_resolved,
        })
    grafana_api("PUT", "/api/v1/provisioning/policies", policy_tree(settings.alerting.route))
    folder = "grafana-path"
    grafana_api("POST", "/api/folders", {"uid": folder, "title": "Grafana alert path"})
    rule = GrafanaRule(
        alert="GrafanaManagedPath", datasource="prometheus", expr='sum(up{job="prometheus"})', op=">", threshold=0,
        for_="0s", labels=(("severity", "critical"),), annotations=(("summary", "Grafana-managed path"),),
        no_data_state="NoData",
    )
    grafana_api("POST", "/api/v1/provisioning/alert-rules", {
        "folderUID": folder, "ruleGroup": "path", "title": rule.alert, "condition": "B", "orgID": 1,
        "data": [
            {"refId": q["ref_id"], "datasourceUid": q["datasource_uid"], "model": q["model"],
             "relativeTimeRange": {"from": q["from"], "to": q["to"]}}
            for q in grafana_rule_queries(rule)
        ],
        "for": rule.for_, "labels": dict(rule.labels), "annotations": dict(rule.annotations),
        "noDataState": rule.no_data_state, "execErrState": "Error",
    })
    grafana_api("PUT", f"/api/v1/provisioning/folder/{folder}/rule-groups/path", {"interval": 10})
    # severity="critical" routes to the critical receiver (tests/routing_table.yaml), not to the default.
    wait_for(lambda: "GrafanaManagedPath" in webhooks.alertnames("/critical"), 120,
             "the Grafana-managed alert at /critical", interval=1)
    assert "GrafanaManagedPath" not in webhooks.alertnames("/default")
