"""The real images on a real Docker engine, running the rendered configuration (through docker-compose).

The same images, files, volumes, ports and healthchecks as the Pulumi components (stacks/render/ compose.py), so
this proves the configuration against Prometheus 3 and Alertmanager themselves: health, scraping, rules, the alert
path, data on volumes. The stack runs without Loki, Promtail and Grafana (`services`): their images come only from a
registry, and their source is AGPL, which this project does not build (docs/building-without-registries.md, "Never
built or downloaded"). The images are the local builds of the pinned releases, selected through `images` as a stack
would select a mirror. The stack's own host runs its agents (node-exporter and cAdvisor, local builds too) in the
host's network, on ports of this test's own, and Prometheus scrapes them.
"""

from __future__ import annotations

import shutil
import subprocess
import time
import urllib.parse
from pathlib import Path

import pytest
from conftest import configured_stack
from engine_stack import wait_for_component_targets
from polling import http_json, wait_for

from offline.images.local_builds import local_agent_images, local_images
from stacks.config.load import load_settings
from stacks.content import load_content
from stacks.environment import docker_socket_group
from stacks.render.compose import render_compose

pytestmark = pytest.mark.containers
PROJECT = "monitoring-ct"
SERVICES = ("prometheus", "alertmanager")
# Below 32768: Linux gives ports 32768-60999 to outgoing connections, which can take a test's port first.
PORTS = {"prometheus": 24091, "alertmanager": 24093}
AGENT_PORTS = {"node-exporter": 24200, "cadvisor": 24280}
AGENTS = tuple(AGENT_PORTS)


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
    """The dev stack's settings with this test's names, ports and images, receivers on `webhooks`."""
    config, secret_keys = configured_stack("dev")
    config.update(
        {
            "monitoring:namePrefix": PROJECT,
            "monitoring:ports": PORTS,
            "monitoring:services": list(SERVICES),
            "monitoring:images": local_images() | local_agent_images(),
            "monitoring:grafanaContent": False,
            "monitoring:hosts": [{"name": "local", "ports": AGENT_PORTS}],
        }
    )
    config["monitoring:prometheus"] = {"scrapeInterval": "5s", "evaluationInterval": "5s"}
    alerting = config["monitoring:alerting"]
    for receiver in alerting["receivers"]:
        receiver["webhooks"][0]["url"] = webhooks.url(f"/{receiver['name']}", host="host.docker.internal")
    alerting["route"].update(groupWait="1s", groupInterval="5s")
    return load_settings(config, frozenset(secret_keys))


@pytest.fixture(scope="module")
def stack(tmp_path_factory, settings):
    workdir = tmp_path_factory.mktemp("compose")
    compose_file, files = render_compose(settings, load_content(), docker_socket_group(settings))
    (workdir / "docker-compose.yml").write_text(compose_file)
    for path, text in files.items():
        (workdir / path).parent.mkdir(parents=True, exist_ok=True)
        (workdir / path).write_text(text)
    compose(workdir, "down", "-v", "--remove-orphans")  # leftovers of an interrupted run
    compose(workdir, "up", "-d")
    try:
        wait_for(
            lambda: all(health(s) == "healthy" for s in (*SERVICES, *(f"local-{a}" for a in AGENTS))),
            240,
            "every container to be healthy",
        )
        yield workdir
    finally:
        compose(workdir, "down", "-v", "--remove-orphans")
        shutil.rmtree(workdir, ignore_errors=True)


def test_the_stack_runs_only_its_services_each_on_the_image_its_config_names(stack, settings):
    running = set(docker("ps", "--filter", f"name={PROJECT}-", "--format", "{{.Names}}").split())
    agents = {f"{PROJECT}-local-{agent}" for agent in AGENTS}
    assert running == {f"{PROJECT}-{service}" for service in SERVICES} | agents
    for service in SERVICES:
        image = docker("inspect", "-f", "{{.Config.Image}}", f"{PROJECT}-{service}")
        assert image == local_images()[service] and image.startswith("monitoring.local/")
        assert health(service) == "healthy"
    for agent in AGENTS:
        image = docker("inspect", "-f", "{{.Config.Image}} {{.HostConfig.NetworkMode}}", f"{PROJECT}-local-{agent}")
        assert image == f"{local_agent_images()[agent]} host"
        assert health(f"local-{agent}") == "healthy"


def test_prometheus_scrapes_every_component_and_loaded_the_rules(stack):
    wait_for_component_targets(url("prometheus", ""), (*SERVICES, *AGENTS))
    targets = http_json(url("prometheus", "/api/v1/targets"))["data"]["activeTargets"]
    assert not {t["labels"]["job"] for t in targets} & {"loki", "promtail", "grafana"}, "a service it does not run"
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
        "createdBy": "tests",
        "comment": "must outlive the container",
    }
    silence_id = http_json(url("alertmanager", "/api/v2/silences"), data=silence)["silenceID"]
    wait_for(
        lambda: any(
            s["id"] == silence_id and s["status"]["state"] == "active"
            for s in http_json(url("alertmanager", "/api/v2/silences"))
        ),
        30,
        "the silence to be active",
        interval=0.2,
    )
    compose(stack, "stop", "alertmanager")  # a clean stop writes the silences snapshot to the volume
    compose(stack, "up", "-d", "--force-recreate", "--no-deps", "alertmanager")
    wait_for(lambda: health("alertmanager") == "healthy", 120, "the new Alertmanager to be healthy")
    silences = http_json(url("alertmanager", "/api/v2/silences"))
    assert silence_id in {s["id"] for s in silences}
