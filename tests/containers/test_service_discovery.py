"""Application discovery by the real promtool: the rendered docker_sd job, relabelling included, run by
`promtool check service-discovery` against containers on the local Docker daemon."""

from __future__ import annotations

import contextlib
import json
import subprocess

import pytest
from conftest import configured_stack
from polling import wait_for

from offline.images.local_builds import local_images
from stacks.config.load import load_settings
from stacks.layout import APP_DISCOVERY_JOB
from stacks.outputs import network_name
from stacks.render.prometheus import render_prometheus_config

pytestmark = pytest.mark.tools


def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


SD_PREFIX = "monitoring-contract-sd"


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], check=True, capture_output=True, text=True, timeout=120).stdout.strip()


def running_on(networks: dict[str, set[str]]) -> dict[str, dict[str, str]] | None:
    """container -> {network: IP} once `docker inspect` shows every container running, with an IP on each
    of its networks (and on no other); None until then."""
    inspected = {}
    for info in json.loads(docker("inspect", *networks)):
        name = info["Name"].lstrip("/")
        ips = {net: settings["IPAddress"] for net, settings in info["NetworkSettings"]["Networks"].items()}
        if not info["State"]["Running"] or set(ips) != networks[name] or not all(ips.values()):
            return None
        inspected[name] = ips
    return inspected


@pytest.fixture
def app_containers():
    """Containers each showing one case of the scrape labels, most on the stack's network; removed afterwards.
    Yields the IP on that network of those that should be scraped."""
    network = network_name(SD_PREFIX)
    labelled = {"monitoring.scrape": "true", "monitoring.port": "9093"}
    cases = {
        "app": ({**labelled, "monitoring.job": "orders", "monitoring.path": "/custom"}, True),
        "plain": (labelled, True),  # default job and path
        "noport": ({"monitoring.scrape": "true"}, True),
        "impostor": ({**labelled, "monitoring.job": "prometheus"}, True),
        "optout": ({**labelled, "monitoring.scrape": "false"}, True),
        "offnet": (labelled, False),
    }
    docker("network", "create", network)
    names = [f"{SD_PREFIX}-{case}" for case in cases]
    try:
        for name, (labels, on_network) in zip(names, cases.values(), strict=True):
            label_args = [arg for k, v in labels.items() for arg in ("--label", f"{k}={v}")]
            docker(
                "run",
                "-d",
                "--name",
                name,
                *(["--network", network] if on_network else []),
                *label_args,
                local_images()["alertmanager"],
            )
        docker("network", "connect", "bridge", f"{SD_PREFIX}-app")  # a second network: not where we scrape it
        # `docker run -d` and `network connect` can return before the daemon lists the container as running
        # on its networks, and Docker service discovery lists only what the daemon does at that moment.
        networks = {
            name: {network if on_network else "bridge"}
            for name, (_, on_network) in zip(names, cases.values(), strict=True)
        }
        networks[f"{SD_PREFIX}-app"].add("bridge")
        inspected = wait_for(
            lambda: running_on(networks),
            30,
            f"the daemon to report {sorted(networks)} running on their networks",
            interval=0.25,
        )
        yield {name: inspected[name][network] for name in (f"{SD_PREFIX}-app", f"{SD_PREFIX}-plain")}
    finally:
        subprocess.run(["docker", "rm", "-f", *names], capture_output=True)
        subprocess.run(["docker", "network", "rm", network], capture_output=True)


def container_names(targets: list[dict]) -> set[str]:
    """The containers Docker service discovery found, in `promtool check service-discovery` output."""
    return {t["discoveredLabels"]["__meta_docker_container_name"].lstrip("/") for t in targets}


# What Prometheus 3.16 adds to every target of a job that leaves classic histograms as they are.
CLASSIC_HISTOGRAMS_AS_SCRAPED = {
    "__always_scrape_classic_histograms__": "false",
    "__convert_classic_histograms_to_nhcb__": "false",
}


@pytest.mark.containers
def test_promtool_service_discovery_keeps_only_opted_in_containers_on_the_stack_network(app_containers, tmp_path):
    """The rendered docker_sd job run by the real promtool against the local Docker daemon, relabelling included."""
    config, secret_keys = configured_stack("dev")
    config["monitoring:namePrefix"] = SD_PREFIX
    settings = load_settings(config, frozenset(secret_keys))
    (tmp_path / "prometheus.yml").write_text(render_prometheus_config(settings))
    expected = {f"{SD_PREFIX}-{case}" for case in ("app", "plain", "noport", "impostor")}

    # promtool reports what discovery found within its timeout; a slow daemon answers after it. Run it
    # again (bounded) until the expected containers are all there, then check its last answer.
    attempts: list[subprocess.CompletedProcess] = []

    def discovered_every_expected_container():
        attempts.append(
            run(
                "promtool",
                "check",
                "service-discovery",
                "--timeout=3s",
                str(tmp_path / "prometheus.yml"),
                APP_DISCOVERY_JOB,
            )
        )
        return attempts[-1].returncode == 0 and container_names(json.loads(attempts[-1].stdout)) >= expected

    with contextlib.suppress(AssertionError):  # timed out: the assertions below say what the last run found
        wait_for(discovered_every_expected_container, 45, "promtool to discover the containers", interval=1)
    result = attempts[-1]
    assert result.returncode == 0, result.stdout + result.stderr
    found = json.loads(result.stdout)
    assert container_names(found) == expected, f"after {len(attempts)} promtool runs: {result.stdout}"
    kept = sorted(
        ({k: v for k, v in t["labels"].items() if not k.startswith("__scrape")} for t in found if t["labels"]),
        key=lambda labels: labels["container"],
    )
    app, plain = f"{SD_PREFIX}-app", f"{SD_PREFIX}-plain"
    assert kept == [
        {
            "__address__": f"{app_containers[app]}:9093",
            "__metrics_path__": "/custom",
            "__scheme__": "http",
            **CLASSIC_HISTOGRAMS_AS_SCRAPED,
            "container": app,
            "instance": f"{app}:9093",
            "job": "orders",
        },
        {
            "__address__": f"{app_containers[plain]}:9093",
            "__metrics_path__": "/metrics",
            "__scheme__": "http",
            **CLASSIC_HISTOGRAMS_AS_SCRAPED,
            "container": plain,
            "instance": f"{plain}:9093",
            "job": plain,
        },
    ]
