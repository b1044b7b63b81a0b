"""The output contract on the real engine: a second Pulumi project registers its own scrape target.

The monitoring dev stack, with what this machine may run (engine_stack.PERMITTED_SERVICES: Prometheus and
Alertmanager, no Grafana or its plugin, docs/building-without-registries.md, "Never built or downloaded"), is
deployed once; then `examples/app`, a project of its own in the same file backend, reads it through a
StackReference, runs a container on its network with the scrape labels, and Prometheus scrapes it without the
monitoring stack being touched. The tests run in order on one deployment.
"""

from __future__ import annotations

import json
import os
import urllib.parse

import pytest
from engine_stack import PERMITTED_SERVICES, Stack, deployed_dev_stack, docker, new_stack
from polling import http_json, wait_for

from stacks import outputs as contract
from stacks.layout import DOCKER_SOCKET

pytestmark = pytest.mark.engine

PREFIX = "monitoring-contract"
PORTS = {"prometheus": 19291, "alertmanager": 19293}
NETWORK = f"{PREFIX}-network"
APP = f"{PREFIX}-app"
JOB = "contract-app"
# Containers with the labels that must not be scraped: off the network, or without monitoring.scrape=true.
DECOYS = {
    f"{PREFIX}-offnet": ([], {"monitoring.scrape": "true", "monitoring.port": "9093", "monitoring.job": "offnet"}),
    f"{PREFIX}-unlabelled": (["--network", NETWORK], {"monitoring.port": "9093", "monitoring.job": "unlabelled"}),
}


def url(service: str, path: str = "") -> str:
    return f"http://127.0.0.1:{PORTS[service]}{path}"


@pytest.fixture(scope="module")
def monitoring(tmp_path_factory, webhooks):
    """The deployed monitoring dev stack and its file backend; destroyed at the end."""
    backend = tmp_path_factory.mktemp("state")
    deployment = deployed_dev_stack(
        tmp_path_factory.mktemp("project"),
        backend,
        PREFIX,
        PORTS,
        lambda path: webhooks.url(path, host="host.docker.internal"),
    )
    stack = next(deployment)
    try:
        stack.up()
        yield stack, backend
    finally:
        next(deployment, None)  # its cleanup: destroy, and remove whatever is left


@pytest.fixture(scope="module")
def app(monitoring) -> Stack:
    """The example application's stack, a second project in the same backend (not deployed yet)."""
    stack, backend = monitoring
    app = new_stack(stack.workdir / "examples/app", "dev", backend)
    # On a file backend every stack is "organization/<project>/<stack>".
    app.set_config("monitoringStack", "organization/monitoring/dev")
    app.set_config("name", APP)
    app.set_config("job", JOB)
    app.set_config("image", PERMITTED_SERVICES["images"]["alertmanager"])
    try:
        yield app
    finally:
        app.pulumi("destroy", "--yes", "--skip-preview", check=False)
        docker("rm", "-f", APP, check=False)


@pytest.fixture(scope="module")
def decoys(monitoring):
    try:
        for name, (network, labels) in DECOYS.items():
            label_args = [arg for k, v in labels.items() for arg in ("--label", f"{k}={v}")]
            docker("run", "-d", "--name", name, *network, *label_args, PERMITTED_SERVICES["images"]["alertmanager"])
        yield list(DECOYS)
    finally:
        docker("rm", "-f", *DECOYS, check=False)


def active_targets() -> list[dict]:
    return http_json(url("prometheus", "/api/v1/targets"))["data"]["activeTargets"]


def test_the_stack_exports_the_contract(monitoring):
    stack, _ = monitoring
    outputs = stack.outputs()
    assert set(outputs) == set(contract.REQUIRED_OUTPUTS)  # no Grafana content: no token, no dashboards
    assert outputs["environment"] == "dev" and outputs["network"] == NETWORK
    assert outputs["urls"] == {service: url(service) for service in PORTS}
    assert outputs["scrapeLabels"] == contract.LABELS.as_output()
    assert outputs["grafana"] == {"url": "", "folderUids": {}, "datasourceUids": {}}  # it runs no Grafana


def test_prometheus_reads_the_socket_read_only_as_nobody_in_its_group(monitoring):
    inspect = json.loads(docker("inspect", f"{PREFIX}-prometheus").stdout)[0]
    assert inspect["Config"]["User"] == "nobody"
    assert inspect["HostConfig"]["GroupAdd"] == [str(os.stat(DOCKER_SOCKET).st_gid)]
    socket = [m for m in inspect["Mounts"] if m["Destination"] == DOCKER_SOCKET]
    assert [(m["Type"], m["Source"], m["RW"]) for m in socket] == [("bind", DOCKER_SOCKET, False)]
    assert not inspect["HostConfig"]["Privileged"]


def test_the_socket_mount_and_group_read_back_without_a_diff(monitoring):
    stack, _ = monitoring
    stack.pulumi("preview", "--refresh", "--expect-no-changes")


def test_an_app_project_registers_its_own_scrape_target(app, decoys):
    app.up()
    outputs = app.outputs()
    assert outputs == {"container": APP, "prometheusUrl": url("prometheus"), "grafanaUrl": ""}
    inspect = json.loads(docker("inspect", APP).stdout)[0]
    assert list(inspect["NetworkSettings"]["Networks"]) == [NETWORK]
    ip = inspect["NetworkSettings"]["Networks"][NETWORK]["IPAddress"]

    def app_target():
        return next((t for t in active_targets() if t["labels"]["job"] == JOB and t["health"] == "up"), None)

    target = wait_for(app_target, 60, f"Prometheus to scrape the {JOB} job")
    assert target["scrapePool"] == "docker-apps" and target["scrapeUrl"] == f"http://{ip}:9093/metrics"
    assert target["labels"]["instance"] == f"{APP}:9093" and target["labels"]["container"] == APP
    # The decoys started before the app, so discovery has seen them by now, and left them out.
    scraped = {t["labels"].get("container") for t in active_targets()}
    assert not scraped & set(decoys)
    query = urllib.parse.urlencode({"query": f'up{{job="{JOB}"}}'})
    result = http_json(url("prometheus", f"/api/v1/query?{query}"))["data"]["result"]
    assert [sample["value"][1] for sample in result] == ["1"]


def test_destroying_the_app_stack_removes_its_target(app):
    app.pulumi("destroy", "--yes", "--skip-preview")
    assert docker("inspect", APP, check=False).returncode != 0  # the container is gone
    wait_for(lambda: all(t["labels"]["job"] != JOB for t in active_targets()), 60, f"the {JOB} target to go")
